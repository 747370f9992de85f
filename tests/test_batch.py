"""A whole class: discovery, parallel jobs, the gradebook, feedback files, nothing lost."""

import csv
import io
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import BACKPROP, FAST, ROOT, SOLUTION, notebook_text, points, run_cli, with_solution
from grader.batch import grade_all
from grader.intake.discovery import DiscoveryError, discover
from grader.store import ResultStore

SAMPLE = ROOT / "examples" / "class"


@pytest.fixture
def klass(tmp_path):
    """A small class: files, a notebook, folders, a broken file and things to skip."""
    root = tmp_path / "class"
    (root / "dora").mkdir(parents=True)
    (root / "eve" / "notes").mkdir(parents=True)
    (root / "fred").mkdir()
    (root / ".ipynb_checkpoints").mkdir()
    (root / "__pycache__").mkdir()
    (root / "amy.py").write_text(SOLUTION)
    (root / "ben.py").write_text(with_solution("def dJdW2(a2, delta3):\n    return a2.T\n"))
    (root / "cat.ipynb").write_text(notebook_text("%matplotlib inline", SOLUTION))
    (root / "dora" / "backprop.py").write_text(SOLUTION)
    (root / "dora" / "scratch.py").write_text("print(1)\n")
    (root / "eve" / "a.py").write_text(SOLUTION)
    (root / "eve" / "notes" / "b.py").write_text(SOLUTION)
    (root / "gus.ipynb").write_text("{ not json")
    (root / "hal.py").write_text("def forward(:\n")
    (root / ".hidden.py").write_text(SOLUTION)
    (root / ".ipynb_checkpoints" / "cat-checkpoint.ipynb").write_text(SOLUTION)
    (root / "__pycache__" / "x.py").write_text(SOLUTION)
    (root / "readme.txt").write_text("not a submission")
    return root


def test_discovery_one_entry_per_student(klass):
    entries = {e.student: e for e in discover([klass])}
    assert list(entries) == ["amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal"]
    assert entries["dora"].path.name == "backprop.py"  # named like the exercise
    assert "several files" in entries["eve"].error and "a.py" in entries["eve"].error
    assert "notes/b.py" in entries["eve"].error
    assert "no .py or .ipynb" in entries["fred"].error


def test_discovery_of_several_paths_keeps_names_unique(klass, tmp_path):
    other = tmp_path / "amy.ipynb"
    other.write_text(notebook_text(SOLUTION))
    entries = discover([klass / "amy.py", other, klass / "amy.py"])
    assert [e.student for e in entries] == ["amy.ipynb", "amy.py"]


@pytest.mark.parametrize("make", [lambda p: p / "nope", lambda p: p / "empty"])
def test_a_missing_path_or_an_empty_folder_is_an_error(tmp_path, make):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DiscoveryError):
        discover([make(tmp_path)])
    result = run_cli(str(make(tmp_path)))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_class_report_in_json_has_a_row_per_student_in_a_stable_order(klass):
    result = run_cli(str(klass), "--format", "json", "--jobs", "2", "--timeout", "5")
    assert result.returncode == 0, result.stderr
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert list(rows) == ["amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal"]
    # ben's dJdW2 is wrong; his cost_function_prime is right given it (carried forward)
    full, ben = BACKPROP.max_score, BACKPROP.max_score - points("dJdW2")
    assert [rows[s]["score"] for s in ("amy", "ben", "cat", "dora")] == [full, ben, full, full]
    assert {s for s, r in rows.items() if r["status"] == "error"} == {"eve", "fred", "gus", "hal"}
    assert "not a valid notebook" in rows["gus"]["error"]


def test_parallel_and_serial_runs_give_the_same_report(klass):
    serial = run_cli(str(klass), "--format", "json", "--jobs", "1", "--no-cache")
    parallel = run_cli(str(klass), "--format", "json", "--jobs", "2", "--no-cache")
    assert serial.returncode == parallel.returncode == 0
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)


def test_csv_is_a_gradebook(klass):
    result = run_cli(str(klass), "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header = rows[0]
    assert header[:5] == ["student", "path", "status", "score", "max_score"]
    questions = len(BACKPROP.questions)
    assert header[5:5 + questions] == [q.id for q in BACKPROP.questions]
    assert header[5 + questions:] == ["error", "flags", "late"]
    ben = next(r for r in rows if r[0] == "ben")
    assert ben[2:5] == ["graded", f"{BACKPROP.max_score - points('dJdW2'):g}", f"{BACKPROP.max_score:g}"]
    assert ben[header.index("dJdW2")] == "0"
    hal = next(r for r in rows if r[0] == "hal")
    assert hal[2] == "error" and "SyntaxError" in hal[header.index("error")]


def test_table_has_the_class_summary(klass):
    out = run_cli(str(klass)).stdout
    assert "class summary: 8 submissions, 4 graded, 4 could not be graded" in out
    # amy, ben, cat and dora graded: ben lost dJdW2's points.
    full, dJdW2 = BACKPROP.max_score, points("dJdW2")
    assert f"total: mean {full - dJdW2 / 4:.3g}, median {full:.3g} (of {full:g})" in out
    dJdW2_row = next(line for line in out.splitlines() if " dJdW2 " in line)
    # its number, mean, share at full marks, then the one student who lost points: diagnosed.
    number = 1 + [q.id for q in BACKPROP.questions].index("dJdW2")
    assert dJdW2_row.split() == [str(number), "dJdW2", "Q11,", "Q14-Q16", f"{dJdW2 * 3 / 4:.3g}", "/",

                                 f"{dJdW2:g}", "75%", "1", "1", "0", "0", "0"]
    header = out.splitlines()[0].split()
    assert header == ["student", *map(str, range(1, len(BACKPROP.questions) + 1)), "total"]
    assert "common mistakes (what to re-teach):\n  dJdW2: 1 student left out delta(3)" in out


def test_feedback_dir_gets_one_markdown_file_per_student(klass, tmp_path):
    folder = tmp_path / "feedback"
    assert run_cli(str(klass), "--feedback-dir", str(folder)).returncode == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{s}.md" for s in ("amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal")]
    ben = (folder / "ben.md").read_text()
    assert f"**Score: {BACKPROP.max_score - points('dJdW2'):g} / {BACKPROP.max_score:g}**" in ben
    assert "### `dJdW2` (Q11, Q14-Q16)" in ben
    assert "| `forward` | equations (1)-(4) | 1 / 1 | correct on all 5 cases |" in ben
    assert "**Not graded.**" in (folder / "hal.md").read_text()


def test_rerun_keeps_unchanged_results_and_regrades_changed_files(klass, tmp_path):
    store = ResultStore(tmp_path / "store")
    entries = discover([klass])
    first = list(grade_all(entries, FAST, jobs=2, store=store))
    assert not any(g.from_store for g in first)
    (klass / "ben.py").write_text(SOLUTION)
    second = {g.result.student: g for g in grade_all(discover([klass]), FAST, jobs=2, store=store)}
    assert not second["ben"].from_store and second["ben"].result.score == BACKPROP.max_score
    # What can't be read or compiled is checked again: it costs nothing.
    regraded = {s: g.result.error for s, g in second.items()
                if s not in ("ben", "eve", "fred", "gus", "hal") and not g.from_store}
    assert not regraded, regraded  # a result not kept the first time says why (its error)
    forced = list(grade_all(discover([klass]), FAST, jobs=2, store=store, force=True))
    assert not any(g.from_store for g in forced)


def test_an_interrupted_batch_keeps_what_it_finished_and_resumes(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.py").write_text(SOLUTION)
    # One that hangs: still loading when the run is interrupted, which stops it at once:
    # neither its time limit nor its own end is waited for. Which of the others are done by
    # then depends on the order the grading threads took them (no order is promised).
    (root / "z.py").write_text("import time\ntime.sleep(60)\n")
    store = tmp_path / "store"
    command = [sys.executable, "-m", "grader", str(root), "--jobs", "1", "--timeout", "120",
               "--cache-dir", str(store), "--format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list(store.glob("*/*.json"))) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # the others finish unless z holds the one job slot
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    kept = re.search(r"interrupted: (\d) of 4 graded and kept", err)
    assert kept and 1 <= int(kept[1]) <= 3, err
    assert len(list(store.glob("*/*.json"))) == int(kept[1])  # the half-graded one was not kept

    (root / "z.py").write_text(SOLUTION)  # the hang fixed; the rest unchanged
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert f"{kept[1]} of 4 unchanged since an earlier run" in again.stderr
    assert [s["score"] for s in json.loads(again.stdout)["submissions"]] == [BACKPROP.max_score] * 4


def test_one_hanging_submission_does_not_stop_the_class(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "a.py").write_text(SOLUTION)
    (root / "b.py").write_text(with_solution("import time\nfor _ in range(600):\n    time.sleep(0.1)\n"))
    result = run_cli(str(root), "--timeout", "1", "--format", "json")
    rows = json.loads(result.stdout)["submissions"]
    assert [r["score"] for r in rows] == [BACKPROP.max_score] * 2
    assert "ran for more than 1 s" in rows[1]["load_errors"][0]["message"]


def test_progress_bar_on_a_terminal_and_silent_otherwise(klass):
    quiet = run_cli(str(klass))
    assert quiet.stderr == ""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "grader", str(klass), "--no-cache"],
                               stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=60)
    os.close(primary)
    text = seen.decode(errors="replace")
    assert "grading" in text and "8/8" in text and "/s" in text


def test_the_sample_class_grades(tmp_path):
    result = run_cli(str(SAMPLE), "--format", "json", "--no-cache")
    rows = {r["student"]: r for r in json.loads(result.stdout)["submissions"]}
    assert rows["alice"]["score"] == BACKPROP.max_score
    bob = {q["id"]: q for q in rows["bob"]["questions"]}
    assert bob["dJdW2"]["diagnosis"] == "dJdW2.missing_delta3"  # the worksheet's Q11 mistake
    dan = {q["id"]: q for q in rows["dan"]["questions"]}
    assert dan["a2_rows_and_columns"]["diagnosis"] == "a2_rows_and_columns.swapped"
    assert rows["erin"]["status"] == "error" and rows["grace"]["status"] == "error"
    assert rows["carol"]["notes"] and rows["carol"]["load_errors"]
    assert rows["dan"]["path"].endswith("dan/backprop.py")


def test_an_unusable_result_store_warns_and_grading_goes_on(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store should be")
    (tmp_path / "a.py").write_text(SOLUTION)
    result = run_cli(str(tmp_path / "a.py"), "--cache-dir", str(blocked / "store"), "--format", "json")
    assert result.returncode == 0
    assert result.stderr.startswith("warning: results can't be kept in")
    assert json.loads(result.stdout)["submissions"][0]["score"] == BACKPROP.max_score


def test_the_json_report_is_exactly_its_own_indented_json(klass):
    """Written a submission at a time from what the spool keeps, the report is still the one
    document `json.dumps(report, indent=2)` writes: its look is the same as before it was
    written in pieces, whatever the format's consumers compare."""
    result = run_cli(str(klass), "--format", "json", "--jobs", "2", "--no-cache")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert result.stdout == json.dumps(document, indent=2) + "\n"
    assert len(document["submissions"]) == 8 and document["summary"]["submissions"] == 8


def _class_with_ties():
    """Results whose summary has ties (two mistakes, two packages, each counted once),
    groups of the same wrong answer, and thirds of a point (0.3333) to add up."""
    from grader.assignment import default
    from grader.results import CaseResult, Diagnosis, QuestionResult, Status, SubmissionResult

    work = default()
    statuses = {"ann": "pppp", "Bob": "pwpp", "cy": "pwww", "dee": "wwpp", "eli": "pwpp", "fox": "pppp"}
    diagnosis = {"cy": Diagnosis("dJdW2.b", "b mistake"), "dee": Diagnosis("dJdW2.a", "a mistake")}
    results = []
    for student, marks in statuses.items():
        questions = []
        for question in work.questions:
            cases = tuple(CaseResult(f"c{i}", f"case {i}", Status.PASSED if mark == "p" else Status.WRONG)
                          for i, mark in enumerate(marks[:3] if question.id == "dJdW1" else marks))
            wrong = any(c.status is Status.WRONG for c in cases)
            questions.append(QuestionResult(
                question, cases, "", diagnosis.get(student) if wrong else None,
                answer_digest="same" if wrong and student in ("Bob", "eli") else None))
        results.append(SubmissionResult(student, f"{student}.py", questions=tuple(questions),
                                        missing_packages={"cy": ("zeta",), "dee": ("alpha",)}.get(student, ())))
    results.append(SubmissionResult("gil", "gil.py", error="SyntaxError"))
    return work, results


def test_the_class_summary_is_the_same_in_whatever_order_results_come():
    """A class graded in parallel counts its results as they finish: the summary, its ties
    and its groups, can't depend on that order."""
    import itertools

    from grader.reports.summary import ClassStats

    work, results = _class_with_ties()
    seen = []
    for order in itertools.islice(itertools.permutations(results), 0, None, 97):
        stats = ClassStats(work)
        for result in order:
            stats.add(result)
        seen.append((json.dumps(stats.to_dict()), stats.common_mistakes(), stats.uncatalogued()))
    assert len(seen) > 40 and all(view == seen[0] for view in seen)
    summary = json.loads(seen[0][0])
    assert summary["missing_packages"] == {"alpha": 1, "zeta": 1}  # a tie: by name
    dJdW2 = next(q for q in summary["questions"] if q["id"] == "dJdW2")
    assert dJdW2["diagnoses"] == {"dJdW2.a": 1, "dJdW2.b": 1}
    assert dJdW2["uncatalogued_groups"] == [{"students": ["Bob", "eli"], "count": 2}]
    dJdW1 = next(q for q in summary["questions"] if q["id"] == "dJdW1")
    points = next(q.points for q in work.questions if q.id == "dJdW1")
    assert dJdW1["mean"] == round(sum(round(points * k / 3, 4) for k in (3, 2, 1, 1, 2, 3)) / 6, 4)


def test_arguments_changed_in_place_reach_no_later_student(tmp_path):
    """The first stage's calls are held once per worker: a student who zeroes every argument
    given to them changes only their own copy; the students after them, on the same worker,
    get the calls as made."""
    zeroing = with_solution("import numpy as _np\n_model_forward = forward\n"
                            "def forward(X, W1, W2):\n"
                            "    for a in (X, W1, W2):\n"
                            "        a[...] = 0\n"
                            "    return _model_forward(X, W1, W2)\n")
    (tmp_path / "ann.py").write_text(zeroing)
    (tmp_path / "bob.py").write_text(SOLUTION)
    (tmp_path / "cy.py").write_text(zeroing)
    (tmp_path / "dee.py").write_text(SOLUTION)
    result = run_cli(str(tmp_path), "--format", "json", "--jobs", "1", "--no-cache")
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert rows["bob"]["score"] == rows["dee"]["score"] == BACKPROP.max_score
    assert rows["ann"]["score"] == rows["cy"]["score"] < BACKPROP.max_score

    forward = next(q for q in rows["ann"]["questions"] if q["id"] == "forward")
    assert forward["status"] == "wrong"
    alone = json.loads(run_cli(str(tmp_path / "cy.py"), "--format", "json", "--no-cache").stdout)
    assert alone["submissions"][0]["questions"] == rows["cy"]["questions"]
