"""Write a ready PrairieLearn question that grades the worksheet with this grader.

    python prairielearn/make_question.py OUT --image DOCKERHUB_USER/backprop-grader
    python prairielearn/make_question.py OUT --image ... --requirements requirements.txt
    python prairielearn/make_question.py OUT --image ... --assignment gradient-checking
    python prairielearn/make_question.py OUT --image ... --keep-uuid     # written again, the same question
    python prairielearn/make_question.py OUT --image ... --uuid UUID     # the UUID the course has for it

OUT then holds three things (see the README's PrairieLearn section):

- image/: the grading image's Dockerfile and the grader's source it installs (and seals: the
  model answer is readable by root only, and student code never runs as root);
- questions/backprop/ (or the --assignment's name): info.json (external grading on, the image,
  the entrypoint, a timeout; the assignment's title as its title and topic, its name as a tag;
  a UUID of its own) and question.html (upload a .py or .ipynb; the results shown per question);
- serverFilesCourse/backprop_grader/run.sh (run-NAME.sh for another assignment): the
  entrypoint, `grade prairielearn`, with what students see (--feedback, by default
  `published`: expected values on the worksheet's own cases only, never on the seeded ones)
  and the seeded cases' seed (--seed, by default one drawn when the question is written, so
  that answers gathered where another copy grades are no use here).

PrairieLearn has no per-test visibility (Gradescope's `visibility`): every test's message is
shown with the submission, so what it may say is set by --feedback alone.

PrairieLearn knows a question by its UUID, unique in a course: each question written gets a new
one, so that two copies (two assignments, or one written twice for two courses merged into
one) never clash. Writing the same question again to update it keeps the course's: --keep-uuid
takes the one in OUT's earlier info.json, --uuid the one given.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import shlex
import shutil
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ["pyproject.toml", "README.md", "grader", "solutions", "exercises"]
sys.path.insert(0, str(ROOT))  # this checkout's grader: the one the image holds

from grader.grading import FEEDBACK_LEVELS


class QuestionError(Exception):
    """The question can't be written as asked; the message is one line."""


def kept_uuid(out: Path, name: str) -> str:
    """The UUID of the question written into `out` before (its info.json), to write it again
    as the same question."""
    earlier = out / "questions" / name / "info.json"
    try:
        return str(uuid.UUID(json.loads(earlier.read_text(encoding="utf-8"))["uuid"]))
    except FileNotFoundError:
        raise QuestionError(f"--keep-uuid: no question was written here before ({earlier} is missing); "
                            f"give the course's with --uuid, or leave both out for a new one") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise QuestionError(f"--keep-uuid: {earlier} holds no UUID to keep ({exc})") from None

DOCKERFILE = """\
# The grading image for PrairieLearn's external grader: Python, numpy and the grader.
FROM python:3.11-slim
COPY backprop-grader /opt/backprop-grader
RUN pip install --no-cache-dir /opt/backprop-grader \\
 && if [ -f /opt/backprop-grader/requirements.txt ]; then \\
        pip install --no-cache-dir -r /opt/backprop-grader/requirements.txt; fi \\
 && cd / && python -m grader seal --also /opt/backprop-grader
"""

RUN_SH = """\
#!/bin/bash
# PrairieLearn's entrypoint for "{title}": runs in the grading image,
# reads /grade/student, writes /grade/results/results.json. From /, so that `-m grader` is the
# copy installed in the image. PL_GRADE_DIR lets the grader's own tests run it elsewhere.
cd /
exec python3 -m grader prairielearn --grade-dir "${{PL_GRADE_DIR:-/grade}}"{options}
"""

QUESTION_HTML = """\
<pl-question-panel>
  <p><b>{title}</b>. Upload your answers: your <code>{handin}.py</code>
  or <code>{handin}.ipynb</code> (with any <code>.py</code> file of your own it imports).
  Each function of the stub is checked on the worksheet's numbers and on networks of other
  sizes; the feedback says what is wrong and where the worksheet deals with it.</p>
</pl-question-panel>

<pl-file-upload optional-file-patterns="*.py, *.ipynb"></pl-file-upload>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def info(image: str, timeout: int, name: str = "backprop", title: str | None = None,
         entrypoint: str = "run.sh", question_uuid: str | None = None) -> dict:
    """The question's info.json; `title` None: the assignment's own (its assignment.toml's).
    Its topic is the assignment's title and its tags the assignment's name and what students
    write in, so that two assignments' questions are told apart in a course; `question_uuid`
    None: a new one (PrairieLearn requires each question's to be unique in the course)."""
    if title is None:
        from grader import assignment as assignments

        title = assignments.load(name).title
    return {
        "uuid": str(uuid.uuid4()) if question_uuid is None else str(uuid.UUID(question_uuid)),
        "title": title,
        "topic": title,
        "tags": [name, "python", "numpy"],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "serverFilesCourse": ["backprop_grader/"],
            "entrypoint": f"/grade/serverFilesCourse/backprop_grader/{entrypoint}",
            "timeout": timeout,
        },
    }


def new_seed() -> int:
    """A seed of the question's own for the seeded cases, drawn when it is written."""
    return secrets.randbelow(2**31)


def build(out: Path, image: str, timeout: int = 120, requirements: Path | None = None,
          assignment: str | None = None, *, feedback: str = "published", seed: int | None = None,
          question_uuid: str | None = None, keep_uuid: bool = False) -> list[Path]:
    """Write the three folders into `out`; return the files written. `assignment` (an
    installed one's name or a folder of your own, copied into the image) is what the question
    grades; by default the backpropagation worksheet. `seed` None: one drawn now. The
    question's UUID: `question_uuid`, or with `keep_uuid` the one `out` holds from before
    (`kept_uuid`), else a new one."""
    from grader import assignment as assignments

    if feedback not in FEEDBACK_LEVELS:
        raise ValueError(f"feedback {feedback!r} is not one the grader takes")
    if question_uuid is not None and keep_uuid:
        raise QuestionError("--uuid and --keep-uuid: give one or the other")
    if question_uuid is not None:
        try:
            question_uuid = str(uuid.UUID(question_uuid))
        except ValueError:
            raise QuestionError(f"--uuid {question_uuid!r} is not a UUID") from None

    work = assignments.load(assignment or assignments.DEFAULT)
    if keep_uuid:  # read before anything in `out` is written
        question_uuid = kept_uuid(out, work.name)
    default = work.name == assignments.DEFAULT and assignment is None
    title = work.title
    entrypoint = "run.sh" if default else f"run-{work.name}.sh"
    written = []

    def write(path: Path, text: str, mode: int = 0o644) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        written.append(path)

    write(out / "image" / "Dockerfile", DOCKERFILE)
    source = out / "image" / "backprop-grader"
    for item in SOURCE:
        path = ROOT / item
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                      and "__pycache__" not in p.parts)
        for file in files:
            target = source / file.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
            written.append(target)
    for file, inside in work.files_to_ship():  # an instructor's own folder
        target = source / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        written.append(target)
    if requirements is not None:
        shutil.copyfile(requirements, source / "requirements.txt")
        written.append(source / "requirements.txt")
    question = out / "questions" / work.name
    write(question / "info.json",
          json.dumps(info(image, timeout, work.name, title, entrypoint, question_uuid), indent=2) + "\n")
    write(question / "question.html", QUESTION_HTML.format(title=html.escape(title), handin=work.handin))
    options = [f"--feedback {feedback}", f"--seed {new_seed() if seed is None else int(seed)}"]
    options += [] if default else [f"--assignment {shlex.quote(work.name)}"]
    write(out / "serverFilesCourse" / "backprop_grader" / entrypoint,
          RUN_SH.format(title=" ".join(title.split()), options="".join(f" \\\n    {o}" for o in options)), 0o755)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a PrairieLearn question for the worksheet.")
    parser.add_argument("out", type=Path, help="the folder to write (image/, questions/, serverFilesCourse/)")
    parser.add_argument("--image", required=True,
                        help="the Docker image name you will push (e.g. yourname/backprop-grader)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds PrairieLearn gives one grading job (at most 600)")
    parser.add_argument("--requirements", type=Path, default=None,
                        help="a pip requirements file of packages students may import")
    parser.add_argument("--assignment", default=None,
                        help="the assignment to grade: an installed one's name or a folder of your own "
                             "(default: the backpropagation worksheet)")
    parser.add_argument("--feedback", choices=FEEDBACK_LEVELS, default="published",
                        help="what students see (see `grade --help`); default: expected values on the "
                             "worksheet's own cases only. (PrairieLearn has no per-test visibility.)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the seeded cases' seed (default: one drawn now, this question's own)")
    parser.add_argument("--uuid", default=None,
                        help="the question's UUID: the one your course has for it, to write it again as "
                             "the same question (default: a new one)")
    parser.add_argument("--keep-uuid", action="store_true",
                        help="keep the UUID of the question written into OUT before (its info.json)")
    args = parser.parse_args()
    if not 1 <= args.timeout <= 600:
        parser.error("--timeout must be between 1 and 600 seconds (PrairieLearn's limit)")
    if args.requirements is not None and not args.requirements.is_file():
        parser.error(f"no such file: {args.requirements}")
    seed = new_seed() if args.seed is None else args.seed
    try:
        written = build(args.out, args.image, args.timeout, args.requirements, args.assignment,
                        feedback=args.feedback, seed=seed, question_uuid=args.uuid, keep_uuid=args.keep_uuid)
    except Exception as exc:  # an unusable assignment (AssignmentError), a UUID refused: one line
        parser.error(str(exc))
    question = next(p.parent for p in written if p.name == "info.json")
    question_uuid = json.loads((question / "info.json").read_text(encoding="utf-8"))["uuid"]
    kept = "kept" if args.uuid or args.keep_uuid else "new; --keep-uuid to keep it when writing it again"
    print(f"{args.out}: {len(written)} files; question UUID {question_uuid} ({kept}); seeded cases' seed "
          f"{seed} (`grade FILE --seed {seed}` "
          f"scores as it does), feedback {args.feedback}. Next: docker build -t {args.image} {args.out / 'image'} "
          f"&& docker push {args.image}; then copy {question} and "
          f"{args.out / 'serverFilesCourse' / 'backprop_grader'} into your course")


if __name__ == "__main__":
    main()
