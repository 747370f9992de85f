"""Hand-ins as students really hand them in: self-check cells left in, several files in one
attempt (Canvas, Moodle, Gradescope), Canvas's LATE. Each graded as what its work earns, and
every report says which file was graded and which were set aside."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from conftest import BACKPROP, FAST, SOLUTION, STUB, notebook_text, run_cli, with_solution
from grader.grading import grade_path
from grader.intake import selfcheck_lines as self_check_lines
from grader.intake.discovery import discover

# The model answer cut at each question, as a student fills in a notebook, a self-check after each.
_QUESTION_CELLS = SOLUTION.split("\n\n\ndef ")


def _notebook_with_checks(import_line: str) -> str:
    cells = [import_line, _QUESTION_CELLS[0]]
    for part in _QUESTION_CELLS[1:]:
        name = part.split("(")[0]
        cells += ["def " + part, f'check("{name}")' if name in {q.id for q in BACKPROP.questions}
                  else "check()"]
    return notebook_text(*cells, 'card = check("Q6")', "display(check())", "print(check('q11'))")


@pytest.mark.sandbox
@pytest.mark.parametrize("import_line", ["from grader import check", "from backprop_check import check",
                                         "import backprop_check\ncheck = backprop_check.check"])
def test_a_notebook_handed_in_with_its_self_check_cells_is_graded_unflagged(write, import_line):
    result = grade_path(write(_notebook_with_checks(import_line), "alice.ipynb"), FAST)
    assert result.score == BACKPROP.max_score and result.flags == () and result.load_errors == ()
    note = next(n for n in result.notes if n.startswith("self-check lines not run"))
    assert "cell 1, line 1" in note and 'check("forward")' in note and "more" in note


def test_self_check_lines_in_a_py_file_are_set_aside_too(grade):
    result = grade("from grader import check\n" + SOLUTION + "\ncheck()\nresult = check('Q17')\n")
    assert result.score == BACKPROP.max_score and result.flags == () and result.load_errors == ()
    assert any("line 1: from grader import check" in n for n in result.notes)


def test_importing_anything_else_of_the_grader_is_still_run_and_flagged(grade):
    result = grade(with_solution("from grader import key\nfrom grader import check\ncheck()\n"))
    assert "imported grader" in result.flags


def test_a_students_own_check_function_is_theirs_and_runs():
    names = BACKPROP.check_modules
    functions, modules = self_check_lines.check_names(
        ["def check(x):\n    return x > 0\n", "ok = check(1)\ncheck(2)\n"], names)
    source, removed = self_check_lines.set_aside("ok = check(1)\ncheck(2)\n", functions, modules, names)
    assert removed == [] and source == "ok = check(1)\ncheck(2)\n"


def test_a_statement_sharing_its_line_with_other_code_is_left_whole():
    names = BACKPROP.check_modules
    functions, modules = self_check_lines.check_names(["x = 1; check()\n"], names)
    assert self_check_lines.set_aside("x = 1; check()\n", functions, modules, names) == ("x = 1; check()\n", [])


@pytest.mark.parametrize("label, expected", [
    ("Q6", {"sigmoid_prime"}), ("q11", {"dJdW2"}), ("Q17", {"delta2", "dJdW1"}),
    ("dJdW2", {"dJdW2"}), ("sigmoidPrime", {"sigmoid_prime"}), ("14", {"per_example_dJdW2", "dJdW2"}),
])
def test_check_takes_the_worksheets_question_numbers(label, expected):
    from grader import check

    namespace = {}
    exec(compile(SOLUTION, "<solution>", "exec"), namespace)  # the student's own kernel, here
    card = check(label, namespace=namespace)
    assert {q.question.id for q in card.questions} == expected
    assert card.score == card.max_score == sum(BACKPROP.question(q).points for q in expected)


# Which file of several is graded

HELPERS = "import numpy as np\n\n\ndef tidy(a):\n    return np.round(a, 3)\n"
DRAFT = notebook_text(SOLUTION.split("def cost(")[0])  # forward only, so far
DRAFTED = [q.id for q in BACKPROP.questions if f"def {q.id}(" in SOLUTION.split("def cost(")[0]]
# What the note says of the model answer: it answers every question.
ANSWERS_ALL = f"answers {len(BACKPROP.questions)} of the worksheet's {len(BACKPROP.questions)} questions"


def _json_rows(*args: str) -> dict:
    done = run_cli(*args, "--format", "json", "--no-cache", "--timeout", "5")
    assert done.returncode == 0, done.stderr
    return {row["student"]: row for row in json.loads(done.stdout)["submissions"]}


@pytest.mark.sandbox
def test_a_canvas_attempt_with_two_files_is_graded_on_the_one_that_does_the_worksheet(tmp_path):
    (tmp_path / "smithjane_12345_6789012_backprop.py").write_text(SOLUTION)
    # A later attachment id (uploaded second): it must not win on that alone.
    (tmp_path / "smithjane_12345_6789013_utils.py").write_text(HELPERS)
    row = _json_rows(str(tmp_path))["smithjane (12345)"]
    assert row["path"].endswith("_backprop.py") and row["score"] == BACKPROP.max_score
    assert (f"graded backprop.py ({ANSWERS_ALL}); set aside: utils.py "
            "(answers none of the worksheet's questions)") in row["notes"]


@pytest.mark.sandbox
def test_a_moodle_folder_is_graded_on_the_work_not_on_the_newest_draft(tmp_path):
    folder = tmp_path / "Ann Lee_33333_assignsubmission_file_"
    folder.mkdir()
    (folder / "my_answers.py").write_text(SOLUTION)
    os.utime(folder / "my_answers.py", (1_000_000_000, 1_000_000_000))
    (folder / "backprop_draft.ipynb").write_text(DRAFT)  # newer, and named nearly like the exercise
    row = _json_rows(str(tmp_path))["Ann Lee (33333)"]
    assert Path(row["path"]).name == "my_answers.py" and row["score"] == BACKPROP.max_score
    assert any(f"set aside: backprop_draft.ipynb (answers {len(DRAFTED)} of" in n for n in row["notes"])


@pytest.mark.sandbox
def test_a_later_canvas_attempt_of_the_same_file_wins_between_equals(tmp_path):
    (tmp_path / "smithjane_12345_6789012_backprop.py").write_text(with_solution(
        "def dJdW2(a2, delta3):\n    return a2.T\n"))
    (tmp_path / "smithjane_12345_6789099_backprop-1.py").write_text(SOLUTION)
    row = _json_rows(str(tmp_path))["smithjane (12345)"]
    assert row["path"].endswith("backprop-1.py") and row["score"] == BACKPROP.max_score


@pytest.mark.sandbox
def test_on_gradescope_the_untouched_stub_never_beats_the_real_work(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "backprop.py").write_text(STUB)
    (submission / "mywork.py").write_text(SOLUTION)
    results = tmp_path / "results.json"
    done = run_cli("gradescope", "--submission", str(submission), "--results", str(results),
                   "--timeout", "5")
    assert done.returncode == 0, done.stderr
    document = json.loads(results.read_text())
    assert document["score"] == BACKPROP.max_score
    assert f"graded mywork.py ({ANSWERS_ALL}); set aside: backprop.py " \
           "(the stub, not filled in)" in document["output"]


@pytest.mark.sandbox
def test_every_report_says_which_file_was_graded(tmp_path):
    folder = tmp_path / "class" / "zoe"
    folder.mkdir(parents=True)
    (folder / "backprop.py").write_text(STUB)
    (folder / "answers.ipynb").write_text(notebook_text(SOLUTION))
    said = f"graded answers.ipynb ({ANSWERS_ALL}); set aside: backprop.py"

    feedback = tmp_path / "feedback"
    table = run_cli(str(tmp_path / "class"), "--no-cache", "--feedback-dir", str(feedback))
    assert said in table.stdout, table.stdout
    assert said in (feedback / "zoe.md").read_text()
    assert any(said in n for n in _json_rows(str(tmp_path / "class"))["zoe"]["notes"])


def test_a_folder_of_two_equal_files_still_asks_which_one(tmp_path):
    folder = tmp_path / "eve"
    folder.mkdir()
    (folder / "a.py").write_text(SOLUTION)
    (folder / "b.py").write_text(SOLUTION)
    [entry] = discover([tmp_path], BACKPROP)
    assert "several files could be the submission (a.py, b.py)" in entry.error


@pytest.mark.sandbox
def test_canvas_late_is_kept_in_the_gradebook_and_the_json(tmp_path):
    (tmp_path / "doejohn_LATE_22222_7000001_backprop.py").write_text(SOLUTION)
    (tmp_path / "smithjane_12345_6789012_backprop.py").write_text(SOLUTION)
    rows = _json_rows(str(tmp_path))
    assert rows["doejohn (22222)"]["late"] is True and rows["smithjane (12345)"]["late"] is False
    done = run_cli(str(tmp_path), "--format", "csv", "--no-cache")
    gradebook = {r["student"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert gradebook["doejohn (22222)"]["late"] == "late" and gradebook["smithjane (12345)"]["late"] == ""


def test_the_note_writes_out_file_names_and_cuts_a_long_list_short():
    from grader.intake import which_file as choice

    candidates = [choice.Candidate(Path(f"/class/eve/f{i}.py"), f"f\x1b[2J{i}.py", i, False, BACKPROP) for i in range(15)]
    [note] = choice.choose(candidates).notes()
    assert "\x1b" not in note and "f\\x1b[2J14.py" in note
    assert note.endswith("; and 4 more")


# --- a hand-in's name in any case: Backprop.PY, ALICE.IPYNB --------------------------------

def test_hand_ins_named_in_upper_case_are_found_and_read(tmp_path):
    """Some systems (and students) write the suffix in capitals: `.PY` and `.IPYNB` are what
    `.py` and `.ipynb` are, and a hand-in named `Backprop.PY` is named like the exercise."""
    from grader.intake.discovery import gradable_files, pick
    from grader.intake.loading import load
    from grader.reports import gradescope

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "Bob.PY").write_text(SOLUTION)
    (folder / "carol.IPYNB").write_text(notebook_text(SOLUTION))
    (folder / "notes.txt").write_text("not a hand-in")
    assert [(e.student, Path(e.path).name) for e in discover([folder], BACKPROP, [])] == \
        [("Bob", "Bob.PY"), ("carol", "carol.IPYNB")]
    assert load(folder / "Bob.PY", None, None, ()).cells[0].source == SOLUTION
    assert load(folder / "carol.IPYNB", None, None, ()).notebook

    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "draft.py").write_text(SOLUTION)
    (upload / "Backprop.PY").write_text(SOLUTION)
    assert [f.name for f in gradable_files(upload).files] == ["Backprop.PY", "draft.py"]
    chosen = gradescope.find_submission(upload, BACKPROP)
    assert chosen.graded.path.name == "Backprop.PY" and chosen.graded.named_like_the_exercise
    assert pick([upload / "draft.py", upload / "Backprop.PY"], upload, False, BACKPROP).graded.path.name == "Backprop.PY"


@pytest.mark.sandbox
def test_a_hand_in_named_backprop_PY_is_graded(tmp_path):
    path = tmp_path / "Backprop.PY"
    path.write_text(SOLUTION)
    done = run_cli(str(path), "--no-cache", "--format", "json")
    assert done.returncode == 0, done.stderr
    [submission] = json.loads(done.stdout)["submissions"]
    assert submission["error"] is None and submission["score"] == BACKPROP.max_score
