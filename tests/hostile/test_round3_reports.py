"""Issue 25, the third red-team round: what the reports show of what a student controls, and
what feedback gives away. One test per threat, named by the issue's item."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import BACKPROP, ROOT, SOLUTION, run_cli, with_solution

# A wrong answer no catalogue entry explains, the same for two students: the class summary
# lists them by name.
SAME_WRONG = SOLUTION + "\n\ndef dJdW1(X, delta2):\n    return (X.T @ delta2) * 3\n"


def _class(tmp_path, students: dict[str, str]):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in students.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return folder


# 8. Bidirectional and zero-width characters in student names
RIGHT_TO_LEFT = "mallory\u202egnp.exe"  # shown as "mallory" + "exe.png", reversed
ZERO_WIDTH = "ali\u200bce"  # looks like "alice"
HIDDEN = ("\u202e", "\u200b")


def _no_hidden(text: str) -> bool:
    return not any(c in text for c in HIDDEN) and not any(
        unicodedata.category(c) == "Cf" for c in text)


@pytest.mark.sandbox
def test_08_invisible_characters_in_names_are_shown_escaped_everywhere(tmp_path):
    folder = _class(tmp_path, {RIGHT_TO_LEFT: SAME_WRONG, ZERO_WIDTH: SAME_WRONG, "alice": SOLUTION})
    feedback, page = tmp_path / "feedback", tmp_path / "class.html"
    table = run_cli(str(folder), "-q", "--feedback-dir", str(feedback), "--html", str(page))
    assert table.returncode == 0, table.stderr
    shown = run_cli(str(folder), "-q", "--format", "csv").stdout
    document = json.loads(run_cli(str(folder), "-q", "--format", "json").stdout)
    markdown = "\n".join(p.read_text(encoding="utf-8") for p in feedback.iterdir())
    for text in (table.stdout, shown, markdown, page.read_text(encoding="utf-8")):
        assert _no_hidden(text)
        if text is markdown:  # where a backslash is itself escaped
            text = text.replace("\\\\", "\\")
        assert "mallory\\u202egnp.exe" in text and "ali\\u200bce" in text
    assert {row["student"] for row in csv.DictReader(io.StringIO(shown))} == {
        "alice", "mallory\\u202egnp.exe", "ali\\u200bce"}
    assert "2 students gave the same wrong answer" in table.stdout
    # JSON: the name to show, and the name as found beside it when they differ.
    entries = {entry["student"]: entry for entry in document["submissions"]}
    assert entries["mallory\\u202egnp.exe"]["student_raw"] == RIGHT_TO_LEFT
    assert entries["ali\\u200bce"]["student_raw"] == ZERO_WIDTH
    assert "student_raw" not in entries["alice"]
    groups = [g for q in document["summary"]["questions"] for g in q["uncatalogued_groups"]]
    assert groups == [{"students": ["ali\\u200bce", "mallory\\u202egnp.exe"], "count": 2}]


# 8. Markdown feedback: what a student wrote is text, never markup
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
            "![](http://evil.example/pixel.png)", "<http://evil.example>", "www.evil.example",
            "me@evil.example", "data:text/html,<b>", "**bold** `code` | cell", "# heading"]
MARKUP = with_solution("".join(
    f"\n\ndef {name}(*args):\n    raise RuntimeError({text!r})\n" for name, text in [
        ("dJdW2", " ".join(PAYLOADS[:5])), ("delta2", " ".join(PAYLOADS[5:])),
        ("dJdW1", "- a list\n---\n> quote")]) + "\nraise ValueError('<b>top</b> [y](https://evil.example)')\n")


def _unescaped(text: str, char: str) -> int:
    """How many times `char` is markup in `text`: not escaped by an odd run of backslashes."""
    return sum(1 for m in re.finditer(re.escape(char), text)
               if (m.start() - len(text[:m.start()].rstrip("\\"))) % 2 == 0)


@pytest.mark.sandbox
def test_08_markdown_feedback_shows_html_links_and_markup_as_text(tmp_path):
    folder = _class(tmp_path, {"bob<img src=x onerror=alert(1)>": MARKUP})
    feedback = tmp_path / "feedback"
    done = run_cli(str(folder), "-q", "--no-cache", "--feedback-dir", str(feedback))
    assert done.returncode == 0, done.stderr
    [file] = feedback.iterdir()
    text = file.read_text(encoding="utf-8")
    assert "alert" in text and "evil" in text  # the messages are there, as text
    # Take away the grader's own markup (question ids as code, the score in bold, the table's
    # pipes): what is left has no markup character that is not escaped.
    own = re.sub(r"`\w+`|\*\*Score: [\d./ ]+\*\*|^\| | \|$", "", text, flags=re.MULTILINE)
    rows = [line for line in own.splitlines() if " | " in line]
    assert rows and all(_unescaped(row, "|") == 3 for row in rows)
    for char in "<>[]&`*_~$":
        assert _unescaped(own, char) == 0, char
    for link in ("http://", "https://", "www.", "javascript:", "data:", "@evil"):
        assert link not in text, link
    assert "http\\[:\\]//evil.example" in text and "me\\[@\\]evil.example" in text
    # Nothing a student wrote starts a line: a list, a rule, a quote or a heading.
    assert not re.search(r"^(-{3}|> |# heading)", text, re.MULTILINE)


# 8. Feedback file names: a function of the student's name, whatever order the class finished in
NAMES = {"Alice": "import time\ntime.sleep(1.5)\n" + SOLUTION, "alice": SOLUTION,
         "bob smith": SOLUTION, "bob_smith": SAME_WRONG}


@pytest.mark.sandbox
def test_08_feedback_file_names_do_not_depend_on_who_finished_first(tmp_path):
    folder = _class(tmp_path, NAMES)
    seen = []
    # One at a time in name order, then two at once with Alice, who sleeps, finishing last.
    for jobs in ("1", "2"):
        feedback = tmp_path / f"feedback-{jobs}"
        done = run_cli(str(folder), "-q", "--no-cache", "--jobs", jobs, "--feedback-dir", str(feedback))
        assert done.returncode == 0, done.stderr
        seen.append({p.name: p.read_text(encoding="utf-8") for p in feedback.iterdir()})
    assert seen[0] == seen[1]
    from grader.batch import feedback_file_name

    for name, text in seen[0].items():  # each file is its own student's
        student = re.search(r"feedback for (.*)\n", text).group(1).replace("\\_", "_")
        assert feedback_file_name(student) == name
    names = sorted(seen[0])
    assert len({name.lower() for name in names}) == 4  # four files, even where case is one
    assert "alice.md" in names and "bob_smith.md" in names  # a plain name is its file's name
    assert names[0].startswith("Alice+") and any(n.startswith("bob_smith+") for n in names)


# 6. Feedback as an answer key: what a deployed bundle shows by default
HARVESTER = SOLUTION + "\n\ndef delta2(delta3, W2, z2):\n    return np.zeros((delta3.shape[0], W2.shape[0]))\n"


def _seeded_answers(seed: int, question: str = "delta2") -> set[str]:
    """Every entry of the question's expected answers on the seeded cases, as feedback writes numbers."""
    from grader.grading import plan
    from grader.judge.compare import fmt

    return {fmt(x) for check in plan(seed, BACKPROP) if check.question.id == question and not check.case.worksheet
            for x in np.ravel(check.expected)}


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", text))


def _lines(document: dict, test: str, key: str = "output") -> list[str]:
    return next(t for t in document["tests"] if t["name"].startswith(test))[key].splitlines()


def _gradescope(tmp_path, name: str, **options) -> tuple[Path, str]:
    """The zip built as make_autograder builds it, unpacked as Gradescope unpacks it."""
    sys.path.insert(0, str(ROOT / "gradescope"))
    import make_autograder

    root = tmp_path / name
    (root / "source").mkdir(parents=True)
    make_autograder.build(tmp_path / f"{name}.zip", **options)
    with zipfile.ZipFile(tmp_path / f"{name}.zip") as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "backprop.py").write_text(HARVESTER)
    return root, (root / "source" / "run_autograder").read_text()


def _run_autograder(root: Path) -> dict:
    env = {**os.environ, "AUTOGRADER": str(root), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.sandbox
def test_06_a_default_gradescope_bundle_shows_no_expected_value_of_a_seeded_case(tmp_path):
    root, script = _gradescope(tmp_path, "default")
    seed = int(re.search(r"--seed (\d+)", script).group(1)) if "--seed" in script else 0
    document = _run_autograder(root)
    text = json.dumps(document)
    assert not _numbers(text) & _seeded_answers(seed)  # nothing to harvest, whatever is resubmitted
    lines = _lines(document, "delta2")
    seeded = [line for line in lines if line.strip().startswith("random")]
    assert len(seeded) == 3 and not any("expected" in line or "error" in line for line in seeded)
    # The worksheet's own cases, whose answers students have, still teach with their numbers.
    assert sum("expected 0.00217404" in line for line in lines) == 3
    assert all(t["visibility"] == "visible" for t in document["tests"])
    # The instructor's own `grade` shows everything (the check above would have seen it).
    shown = run_cli(str(root / "submission" / "backprop.py"), "--format", "gradescope", "--seed", str(seed))
    assert _numbers(shown.stdout) & _seeded_answers(seed)


@pytest.mark.sandbox
def test_06_a_bundle_has_a_seed_of_its_own_and_takes_feedback_and_visibility(tmp_path):
    seeds = {re.search(r"--seed (\d+)", _gradescope(tmp_path, name)[1]).group(1) for name in ("a", "b")}
    assert len(seeds) == 2  # drawn for each zip: answers gathered under one are no use under another
    root, _ = _gradescope(tmp_path, "hidden", feedback="no-expected", visibility="after_due_date", seed=7)
    document = _run_autograder(root)
    assert {t["visibility"] for t in document["tests"]} == {"after_due_date"}
    assert "expected" not in json.dumps(document["tests"])
    assert not _numbers(json.dumps(document)) & _seeded_answers(7)


@pytest.mark.sandbox
def test_06_a_default_prairielearn_question_shows_no_expected_value_of_a_seeded_case(tmp_path):
    sys.path.insert(0, str(ROOT / "prairielearn"))
    import make_question

    make_question.build(tmp_path / "pl", "someone/backprop-grader")
    run = tmp_path / "pl" / "serverFilesCourse" / "backprop_grader" / "run.sh"
    seed = int(re.search(r"--seed (\d+)", run.read_text()).group(1)) if "--seed" in run.read_text() else 0
    grade = tmp_path / "grade"
    (grade / "student").mkdir(parents=True)
    (grade / "student" / "backprop.py").write_text(HARVESTER)
    # run.sh runs the grader installed where it runs (from /): here, this checkout's.
    env = {**os.environ, "PL_GRADE_DIR": str(grade), "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(run)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    document = json.loads((grade / "results" / "results.json").read_text())
    assert not _numbers(json.dumps(document)) & _seeded_answers(seed)
    assert sum("expected 0.00217404" in line for line in _lines(document, "delta2", "output")) == 2
