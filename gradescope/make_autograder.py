"""Build the zip an instructor uploads to Gradescope as the assignment's autograder.

    python gradescope/make_autograder.py            # writes autograder.zip here
    python gradescope/make_autograder.py -o FILE
    python gradescope/make_autograder.py --requirements requirements.txt
    python gradescope/make_autograder.py --assignment gradient-checking
    python gradescope/make_autograder.py --assignment path/to/my-assignment
    python gradescope/make_autograder.py --feedback no-expected --visibility after_due_date

The zip holds setup.sh and run_autograder at its root (as Gradescope requires) and the grader's
source, which setup.sh installs with pip. With --requirements, the packages listed there
(scipy, say) are installed too, and students' code may import them. With --assignment, the
autograder grades that assignment (an installed one, or a folder of your own, which is put in
the zip beside the installed ones) instead of the backpropagation worksheet.

What students see is written into run_autograder: --feedback (by default `published`: expected
values on the worksheet's own cases only, never on the seeded ones, so resubmissions can't
harvest them), --visibility (each test's, as Gradescope defines it) and --seed, the seeded
cases' seed: by default one drawn when the zip is built, so that answers gathered where another
zip grades are no use here. The builder prints it: `grade FILE --seed N` grades as the zip does.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ["pyproject.toml", "README.md", "grader", "solutions", "exercises"]
sys.path.insert(0, str(ROOT))  # this checkout's grader: the one the zip holds

from grader.reports.gradescope import VISIBILITIES
from grader.grading import FEEDBACK_LEVELS


def new_seed() -> int:
    """A seed of the zip's own for the seeded cases, drawn when it is built."""
    return secrets.randbelow(2**31)


def assignment_files(name_or_folder: str) -> tuple[str, list[tuple[Path, str]]]:
    """The assignment's name, and the files to add for it (an instructor's own folder, under
    solutions/<name>/ and exercises/<name>/; none for an installed one). Loading it checks it is usable."""
    from grader import assignment

    work = assignment.load(name_or_folder)
    return work.name, work.files_to_ship()


def build(target: Path, requirements: Path | None = None, assignment: str | None = None, *,
          feedback: str = "published", visibility: str = "visible", seed: int | None = None) -> list[str]:
    """Write the zip; return the names it holds. `seed` None: one drawn now (`new_seed`)."""
    if feedback not in FEEDBACK_LEVELS or visibility not in VISIBILITIES:
        raise ValueError(f"feedback {feedback!r} or visibility {visibility!r} is not one the grader takes")
    name, own_files = assignment_files(assignment) if assignment else (None, [])
    options = [f"--feedback {feedback}", f"--visibility {visibility}",
               f"--seed {new_seed() if seed is None else int(seed)}"]
    if name is not None:
        options.append(f"--assignment {shlex.quote(name)}")
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        if requirements is not None:
            archive.write(requirements, "requirements.txt")
            names.append("requirements.txt")
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            text = (ROOT / "gradescope" / script).read_text(encoding="utf-8")
            if script == "run_autograder":
                text = text.rstrip("\n") + "".join(f" \\\n    {option}" for option in options) + "\n"
            archive.writestr(info, text)
            names.append(script)
        for item in SOURCE:
            path = ROOT / item
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                          and "__pycache__" not in p.parts)
            for file in files:
                name = file.relative_to(ROOT).as_posix()
                archive.write(file, name)
                names.append(name)
        for file, inside in own_files:
            archive.write(file, inside)
            names.append(inside)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the Gradescope autograder zip.")
    parser.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"))
    parser.add_argument("--requirements", type=Path, default=None,
                        help="a pip requirements file of packages students may import")
    parser.add_argument("--assignment", default=None,
                        help="the assignment to grade: an installed one's name or a folder of your own "
                             "(default: the backpropagation worksheet)")
    parser.add_argument("--feedback", choices=FEEDBACK_LEVELS, default="published",
                        help="what students see (see `grade --help`); default: expected values on the "
                             "worksheet's own cases only")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible",
                        help="when students see each question's test (Gradescope's per-test visibility)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the seeded cases' seed (default: one drawn now, this zip's own)")
    args = parser.parse_args()
    if args.requirements is not None and not args.requirements.is_file():
        parser.error(f"no such file: {args.requirements}")
    seed = new_seed() if args.seed is None else args.seed
    try:
        names = build(args.output, args.requirements, args.assignment, feedback=args.feedback,
                      visibility=args.visibility, seed=seed)
    except Exception as exc:  # an unusable assignment: AssignmentError, one line
        parser.error(str(exc))
    print(f"{args.output}: {len(names)} files; upload it as the assignment's autograder. Seeded cases' "
          f"seed {seed} (`grade FILE --seed {seed}` scores as it does); feedback {args.feedback}, "
          f"tests {args.visibility}")


if __name__ == "__main__":
    main()
