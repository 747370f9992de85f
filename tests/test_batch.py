"""A whole class: discovery, parallel jobs, the gradebook, feedback files, nothing lost. The
class hands in the tiny assignment (tests/data); the sample class is the worksheet's."""

import csv
import dataclasses
import io
import json
import os
import pathlib
import pty
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import (
    BACKPROP,
    FAST,
    ROOT,
    TINY,
    TINY_ARGS,
    TINY_FAST,
    TINY_SOLUTION,
    notebook_text,
    points,
    run_cli,
    with_tiny_solution,
)
from grader.batch import grade_all
from grader.intake.discovery import DiscoveryError, discover
from grader.sandbox import workers as processes
from grader.store import ResultStore

SAMPLE = ROOT / "examples" / "class"


# ben's norm forgets the square root (the catalogue's norm.squared); his unit, built on it, is right.
BEN_NORM = "def norm(v):\n    return np.sum(square(v))\n"
FULL, BEN = TINY.max_score, TINY.max_score - points("norm", of=TINY)


@pytest.fixture
def klass(tmp_path):
    """A small class: files, a notebook, folders, a broken file and things to skip."""
    root = tmp_path / "class"
    (root / "dora").mkdir(parents=True)
    (root / "eve" / "notes").mkdir(parents=True)
    (root / "fred").mkdir()
    (root / ".ipynb_checkpoints").mkdir()
    (root / "__pycache__").mkdir()
    (root / "amy.py").write_text(TINY_SOLUTION)
    (root / "ben.py").write_text(with_tiny_solution(BEN_NORM))
    (root / "cat.ipynb").write_text(notebook_text("%matplotlib inline", TINY_SOLUTION))
    (root / "dora" / "tiny.py").write_text(TINY_SOLUTION)
    (root / "dora" / "scratch.py").write_text("print(1)\n")
    (root / "eve" / "a.py").write_text(TINY_SOLUTION)
    (root / "eve" / "notes" / "b.py").write_text(TINY_SOLUTION)
    (root / "gus.ipynb").write_text("{ not json")
    (root / "hal.py").write_text("def square(:\n")
    (root / ".hidden.py").write_text(TINY_SOLUTION)
    (root / ".ipynb_checkpoints" / "cat-checkpoint.ipynb").write_text(TINY_SOLUTION)
    (root / "__pycache__" / "x.py").write_text(TINY_SOLUTION)
    (root / "readme.txt").write_text("not a submission")
    return root


def test_discovery_one_entry_per_student(klass):
    entries = {e.student: e for e in discover([klass], TINY)}
    assert list(entries) == ["amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal"]
    assert entries["dora"].path.name == "tiny.py"  # named like the exercise
    assert "several files" in entries["eve"].error and "a.py" in entries["eve"].error
    assert "notes/b.py" in entries["eve"].error
    assert "no .py or .ipynb" in entries["fred"].error


def test_discovery_of_several_paths_keeps_names_unique(klass, tmp_path):
    other = tmp_path / "amy.ipynb"
    other.write_text(notebook_text(TINY_SOLUTION))
    entries = discover([klass / "amy.py", other, klass / "amy.py"], TINY)
    assert [e.student for e in entries] == ["amy.ipynb", "amy.py"]


@pytest.mark.sandbox
@pytest.mark.parametrize("make", [lambda p: p / "nope", lambda p: p / "empty"])
def test_a_missing_path_or_an_empty_folder_is_an_error(tmp_path, make):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DiscoveryError):
        discover([make(tmp_path)], BACKPROP)
    result = run_cli(str(make(tmp_path)))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.sandbox
def test_the_class_report_in_json_has_a_row_per_student_in_a_stable_order(klass):
    result = run_cli(str(klass), *TINY_ARGS, "--format", "json", "--jobs", "2", "--timeout", "5")
    assert result.returncode == 0, result.stderr
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert list(rows) == ["amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal"]
    # ben's norm is wrong; his unit is right given it (carried forward)
    assert [rows[s]["score"] for s in ("amy", "ben", "cat", "dora")] == [FULL, BEN, FULL, FULL]
    assert {s for s, r in rows.items() if r["status"] == "error"} == {"eve", "fred", "gus", "hal"}
    assert "not a valid notebook" in rows["gus"]["error"]


@pytest.mark.sandbox
def test_parallel_and_serial_runs_give_the_same_report(klass):
    serial = run_cli(str(klass), *TINY_ARGS, "--format", "json", "--jobs", "1", "--no-cache")
    parallel = run_cli(str(klass), *TINY_ARGS, "--format", "json", "--jobs", "2", "--no-cache")
    assert serial.returncode == parallel.returncode == 0
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)


@pytest.mark.sandbox
def test_csv_is_a_gradebook(klass):
    result = run_cli(str(klass), *TINY_ARGS, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header = rows[0]
    assert header[:5] == ["student", "path", "status", "score", "max_score"]
    questions = len(TINY.questions)
    assert header[5:5 + questions] == [q.id for q in TINY.questions]
    assert header[5 + questions:] == ["error", "flags", "late", "could_not_run", "notes"]
    ben = next(r for r in rows if r[0] == "ben")
    assert ben[2:5] == ["graded", f"{BEN:g}", f"{FULL:g}"] and ben[header.index("norm")] == "0"
    hal = next(r for r in rows if r[0] == "hal")
    assert hal[2] == "error" and "SyntaxError" in hal[header.index("error")]


@pytest.mark.sandbox
def test_table_has_the_class_summary(klass):
    out = run_cli(str(klass), *TINY_ARGS).stdout
    assert "class summary: 8 submissions, 4 graded, 4 could not be graded" in out
    # amy, ben, cat and dora graded: ben lost norm's points.
    norm = points("norm", of=TINY)
    assert f"total: mean {FULL - norm / 4:.3g}, median {FULL:.3g} (of {FULL:g})" in out
    norm_row = next(line for line in out.splitlines() if " norm " in line)
    # its number, mean, share at full marks, then the one student who lost points: diagnosed.
    number = 1 + [q.id for q in TINY.questions].index("norm")
    assert norm_row.split() == [str(number), "norm", "Q2", f"{norm * 3 / 4:.3g}", "/", f"{norm:g}", "75%",
                                norm_row.split()[7], "1", f"{norm:g}", "1", "0", "0", "0"]
    header = out.splitlines()[0].split()
    assert header == ["student", *map(str, range(1, len(TINY.questions) + 1)), "total"]
    assert f"  norm (Q2): {norm:g} point{'s' * (norm != 1)} lost by 1 student\n    {norm:g} point" in out
    assert "1 student: forgot the square root (catalogued: " in out


@pytest.mark.sandbox
def test_feedback_dir_gets_one_markdown_file_per_student(klass, tmp_path):
    folder = tmp_path / "feedback"
    assert run_cli(str(klass), *TINY_ARGS, "--feedback-dir", str(folder)).returncode == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{s}.md" for s in ("amy", "ben", "cat", "dora", "eve", "fred", "gus", "hal")]
    ben = (folder / "ben.md").read_text()
    assert f"**Score: {BEN:g} / {FULL:g}**" in ben and "### `norm` (Q2)" in ben
    square = points("square", of=TINY)
    assert f"| `square` | Q1 | {square:g} / {square:g} | correct on all 3 cases |" in ben
    assert "**Not graded.**" in (folder / "hal.md").read_text()


@pytest.mark.sandbox
def test_rerun_keeps_unchanged_results_and_regrades_changed_files(klass, tmp_path):
    store = ResultStore(tmp_path / "store")
    entries = discover([klass], TINY)
    first = list(grade_all(entries, TINY_FAST, jobs=2, store=store))
    assert not any(g.from_store for g in first)
    (klass / "ben.py").write_text(TINY_SOLUTION)
    second = {g.result.student: g for g in grade_all(discover([klass], TINY), TINY_FAST, jobs=2, store=store)}
    assert not second["ben"].from_store and second["ben"].result.score == FULL, second["ben"].result.error
    processes.close_all()
    # What can't be read or compiled is checked again: it costs nothing.
    regraded = {s: g.result.error for s, g in second.items()
                if s not in ("ben", "eve", "fred", "gus", "hal") and not g.from_store}
    assert not regraded, regraded  # a result not kept the first time says why (its error)
    forced = list(grade_all(discover([klass], TINY), TINY_FAST, jobs=2, store=store, force=True))
    processes.close_all()
    assert not any(g.from_store for g in forced)



def _changed(value, tmp_path):
    """Values of an option unlike `value`, one per way it can differ (a dataclass: each field)."""
    from grader import assignment
    from grader.assignment import Assignment
    from grader.grading import FEEDBACK_LEVELS

    if isinstance(value, Assignment):
        return [assignment.load("gradient-checking" if value.name == "backprop" else "backprop")]
    if dataclasses.is_dataclass(value):
        return [dataclasses.replace(value, **{field.name: other})
                for field in dataclasses.fields(value) for other in _changed(getattr(value, field.name), tmp_path)]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        return [value + 1]
    if value in FEEDBACK_LEVELS:
        return [level for level in FEEDBACK_LEVELS if level != value]
    if isinstance(value, tuple):  # files (the catalogues): one more, or the first saying more
        more = tmp_path / "more.toml"
        more.write_text("# one more catalogue\n")
        if not value:
            return [(str(more),)]
        edited = tmp_path / "edited.toml"
        edited.write_text(pathlib.Path(value[0]).read_text() + "\n# edited\n")
        return [(*value, str(more)), (str(edited), *value[1:])]
    raise AssertionError(f"an option of a kind this test can't vary: {value!r}")


def test_every_option_that_can_change_a_grade_is_in_the_result_store_key(tmp_path):
    """The key is made from the options value itself: a field changed (the sandbox's limits
    each on its own) is another key; only the fields `NOT_IN_KEY` names, each with why, are not."""
    from grader.store import NOT_IN_KEY, options_identity

    identity = options_identity(FAST)
    for field in dataclasses.fields(FAST):
        for other in _changed(getattr(FAST, field.name), tmp_path):
            changed = dataclasses.replace(FAST, **{field.name: other})
            if field.name in NOT_IN_KEY:
                assert options_identity(changed) == identity, field.name
            else:
                assert options_identity(changed) != identity, (field.name, other)
    elsewhere = tmp_path / "copy.toml"  # the catalogues count by what they say, not where they are
    elsewhere.write_text(pathlib.Path(FAST.catalogues[0]).read_text())
    assert options_identity(dataclasses.replace(FAST, catalogues=(str(elsewhere),))) == identity
    assert options_identity(dataclasses.replace(FAST, private_paths=("/elsewhere",))) == identity


def test_a_result_the_grader_failed_on_is_transient_by_its_kind_not_its_words():
    from grader.results import ErrorKind, SubmissionResult

    assert SubmissionResult("a", "a.py", error="could not start", error_kind=ErrorKind.SANDBOX).error_is_transient
    assert not SubmissionResult("a", "a.py", error="sandbox failure: in its name",
                                error_kind=ErrorKind.SUBMISSION).error_is_transient
    # What it was is kept in the report, and read back from it.
    from grader.results import submission_from_dict, submission_to_dict

    failed = SubmissionResult("a", "a.py", error="internal grader error: MemoryError", error_kind=ErrorKind.INTERNAL)
    assert submission_from_dict(submission_to_dict(failed), BACKPROP).error_is_transient
    assert SubmissionResult("a", "a.py").error_kind is None


@pytest.mark.sandbox
def test_an_interrupted_batch_keeps_what_it_finished_and_resumes(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.py").write_text(TINY_SOLUTION)
    # One that hangs: still loading when the run is interrupted, which stops it at once:
    # neither its time limit nor its own end is waited for. Which of the others are done by
    # then depends on the order the grading threads took them (no order is promised).
    (root / "z.py").write_text("import time\ntime.sleep(60)\n")
    store = tmp_path / "store"
    command = [sys.executable, "-m", "grader", str(root), *TINY_ARGS, "--jobs", "1", "--timeout", "120",
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

    (root / "z.py").write_text(TINY_SOLUTION)  # the hang fixed; the rest unchanged
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert f"{kept[1]} of 4 unchanged since an earlier run" in again.stderr
    assert [s["score"] for s in json.loads(again.stdout)["submissions"]] == [FULL] * 4


@pytest.mark.sandbox
def test_one_hanging_submission_does_not_stop_the_class(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "a.py").write_text(TINY_SOLUTION)
    (root / "b.py").write_text(with_tiny_solution("import time\nfor _ in range(600):\n    time.sleep(0.1)\n"))
    result = run_cli(str(root), *TINY_ARGS, "--timeout", "1", "--format", "json")
    rows = json.loads(result.stdout)["submissions"]
    assert [r["score"] for r in rows] == [FULL] * 2
    assert "ran for more than 1 s" in rows[1]["load_errors"][0]["message"]


@pytest.mark.sandbox
def test_progress_bar_on_a_terminal_and_silent_otherwise(klass):
    quiet = run_cli(str(klass), *TINY_ARGS)
    assert quiet.stderr == ""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "grader", str(klass), *TINY_ARGS, "--no-cache"],
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


@pytest.mark.sandbox
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


@pytest.mark.sandbox
def test_an_unusable_result_store_warns_and_grading_goes_on(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store should be")
    (tmp_path / "a.py").write_text(TINY_SOLUTION)
    result = run_cli(str(tmp_path / "a.py"), *TINY_ARGS, "--cache-dir", str(blocked / "store"), "--format", "json")
    assert result.returncode == 0
    assert result.stderr.startswith("warning: results can't be kept in")
    assert json.loads(result.stdout)["submissions"][0]["score"] == FULL


@pytest.mark.sandbox
def test_the_json_report_is_exactly_its_own_indented_json(klass):
    """Written a submission at a time from what the spool keeps, the report is still the one
    document `json.dumps(report, indent=2)` writes: its look is the same as before it was
    written in pieces, whatever the format's consumers compare."""
    result = run_cli(str(klass), *TINY_ARGS, "--format", "json", "--jobs", "2", "--no-cache")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert result.stdout == json.dumps(document, indent=2) + "\n"
    assert len(document["submissions"]) == 8 and document["summary"]["submissions"] == 8


def _class_with_ties():
    """Results whose summary has ties (two mistakes, two packages, each counted once),
    groups of the same wrong answer, and thirds of a point (0.3333) to add up."""
    from grader.results import CaseResult, Diagnosis, QuestionResult, Status, SubmissionResult

    work = TINY
    statuses = {"ann": "pppp", "Bob": "pwpp", "cy": "pwww", "dee": "wwpp", "eli": "pwpp", "fox": "pppp"}
    diagnosis = {"cy": Diagnosis("norm.b", "b mistake"), "dee": Diagnosis("norm.a", "a mistake")}
    results = []
    for student, marks in statuses.items():
        questions = []
        for question in work.questions:
            cases = tuple(CaseResult(f"c{i}", f"case {i}", Status.PASSED if mark == "p" else Status.WRONG)
                          for i, mark in enumerate(marks[:3] if question.id == "unit" else marks))
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
        seen.append((json.dumps(stats.to_dict()), stats.uncatalogued()))  # to_dict holds the re-teach view
    assert len(seen) > 40 and all(view == seen[0] for view in seen)
    summary = json.loads(seen[0][0])
    assert summary["missing_packages"] == {"alpha": 1, "zeta": 1}  # a tie: by name
    norm = next(q for q in summary["questions"] if q["id"] == "norm")
    assert norm["diagnoses"] == {"norm.a": 1, "norm.b": 1}
    assert norm["uncatalogued_groups"] == [{"students": ["Bob", "eli"], "count": 2}]
    unit = next(q for q in summary["questions"] if q["id"] == "unit")
    worth = points("unit", of=work)
    assert unit["mean"] == round(sum(round(worth * k / 3, 4) for k in (3, 2, 1, 1, 2, 3)) / 6, 4)


@pytest.mark.sandbox
def test_arguments_changed_in_place_reach_no_later_student(tmp_path):
    """The first stage's calls are held once per worker: a student who zeroes every argument
    given to them changes only their own copy; the students after them, on the same worker,
    get the calls as made."""
    zeroing = with_tiny_solution("_model_square = square\n"
                                 "def square(v):\n"
                                 "    v[...] = 0\n"
                                 "    return _model_square(v)\n")
    (tmp_path / "ann.py").write_text(zeroing)
    (tmp_path / "bob.py").write_text(TINY_SOLUTION)
    (tmp_path / "cy.py").write_text(zeroing)
    (tmp_path / "dee.py").write_text(TINY_SOLUTION)
    result = run_cli(str(tmp_path), *TINY_ARGS, "--format", "json", "--jobs", "1", "--no-cache")
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert rows["bob"]["score"] == rows["dee"]["score"] == FULL
    assert rows["ann"]["score"] == rows["cy"]["score"] < FULL
    square = next(q for q in rows["ann"]["questions"] if q["id"] == "square")
    assert square["status"] == "wrong"
    alone = json.loads(run_cli(str(tmp_path / "cy.py"), *TINY_ARGS, "--format", "json", "--no-cache").stdout)
    assert alone["submissions"][0]["questions"] == rows["cy"]["questions"]
