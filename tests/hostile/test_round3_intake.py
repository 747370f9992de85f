"""Hostile submissions and class folders, third round: answers without a budget, intake before
any limit, a link beside an honest hand-in. Each test is named for the issue's item it answers.

Every attack here is bounded so that it can't hurt the machine if a protection regresses: answers
of a few MB at most, folders of a few thousand entries, files of a few MB.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import BACKPROP, SOLUTION, points, run_cli, with_solution
from grader import assignment, batch, sandbox
from grader.grading import Options
from grader.reports.table import submission_json
from grader.sandbox import client
from grader.sandbox.child import wire as _wire
from grader.sandbox.child.protocol import RESULT_FIELDS


def question(result, question_id):
    return next(q for q in result.questions if q.question.id == question_id)


# 4. Answers without a budget.
def test_04_a_bytes_answer_past_the_budget_is_refused_and_costs_its_question_only(grade):
    """2 MB of bytes: refused while the student's process encodes it; the report quotes
    nothing of it (before: each case's message held its whole repr, 8 MB, in the report)."""
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return bytes(range(256)) * 8192\n"))
    message = question(result, "dJdW2").cases[0].message
    assert message.startswith("returned a bytes value of 2,097,152 bytes, more than the 1,048,576 bytes")
    # dJdW2, and cost_function_prime, which returns its answer
    assert result.score == BACKPROP.max_score - points("dJdW2", "cost_function_prime")
    assert len(submission_json(result)) < 100_000


def test_04_a_nest_of_empty_lists_is_charged_for_every_list(grade):
    """360,000 empty lists: 1.8 MB as encoded, past the budget though no number is in it
    (before: sent whole, rebuilt as 360,000 lists per case and compared as an array)."""
    result = grade(with_solution("_N = [[[]] * 600] * 600\ndef dJdW2(a2, delta3):\n    return _N\n"))
    case = question(result, "dJdW2").cases[0]
    assert case.message.startswith("returned a sequence of 600 items, more than the 1,048,576 bytes")
    assert "empty lists too" in case.message
    assert result.score == BACKPROP.max_score - points("dJdW2", "cost_function_prime")


def test_04_a_long_answer_within_the_budget_is_quoted_as_an_excerpt_that_says_what_was_cut(grade):
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return b'\\x00' * 100_000\n"
                                 "def dJdW1(X, delta2):\n    return {'k': [[]] * 10_000}\n"))
    assert "(the first 40 of its 100,000 bytes)" in question(result, "dJdW2").cases[0].message
    assert question(result, "dJdW1").cases[0].message.startswith("returned a dict of 1 item,")
    assert len(submission_json(result)) < 100_000


def test_04_an_answer_claiming_more_than_the_budget_is_never_decoded():
    """What reaches the grader is checked again: a plain answer, or a result record's, past
    the budget is refused before it is read (a forged frame, or a runner that lost its count)."""
    encode = _wire.make_encoder(np)
    limits = sandbox.Limits(max_answer_bytes=1000)
    big = encode([[]] * 400, [_wire.UNLIMITED])  # 2,005 bytes of empty lists
    plain = client._outcome(b"V", big, frozenset(), limits)
    fields = {"status": "returned", "value": big, "truncated": False}
    record = encode([fields.get(name) for name in RESULT_FIELDS], [_wire.UNLIMITED])
    recorded = client._outcome(b"R", record, frozenset(), limits)
    for outcome in (plain, recorded):
        assert outcome.status == "refused" and "2005 bytes, more than the 1000 allowed" in outcome.message
    assert client._outcome(b"V", encode([[]] * 100, [10 ** 6]), frozenset(), limits).value == [[]] * 100


def test_04_nesting_is_bounded_both_ways():
    encode = _wire.make_encoder(np)
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert "nested too deeply" in repr(_wire.decode(encode(deep, [10 ** 6]), np, unsupported=sandbox.Unsupported))
    with pytest.raises(_wire.ProtocolError):
        _wire.decode(b"l\x00\x00\x00\x01" * 100 + b"N", np)


def test_04_all_of_a_submissions_answers_share_one_budget(grade):
    """Each answer within its own budget, but together past the submission's: the answers past
    it are refused (that call only), and what the grader holds for one submission stays bounded."""
    limits = sandbox.Limits(timeout=2.0, max_answer_bytes=64 * 1024, max_answers_total=256 * 1024)
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return b'x' * 60_000\n"),
                   options=Options(BACKPROP, limits=limits))
    messages = [c.message for c in question(result, "dJdW2").cases]
    assert sum("not kept: with it, your answers would take more than the 262,144 bytes" in m
               for m in messages) >= 1
    assert question(result, "forward").score == 1 and question(result, "dJdW1").score == 1


@pytest.mark.sandbox
def test_04_a_class_gets_its_gradebook_and_html_when_one_result_cannot_be_made_or_kept(tmp_path, monkeypatch):
    """A submission whose grading fails in the grader itself (a MemoryError, a RecursionError),
    or whose result can't be written into the report, is one error row: the class gets its
    gradebook and HTML (before: the exception ended the whole run with a traceback)."""
    from click.testing import CliRunner

    from grader import cli

    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("ann", "bob", "cy"):
        (klass / f"{name}.py").write_text(SOLUTION)
    load, grade_submission = batch.load, batch.grade_submission

    def failing_load(path, *args):
        if path.stem == "bob":
            raise RecursionError("maximum recursion depth exceeded")
        return load(path, *args)

    def unkeepable(submission, options):
        result = grade_submission(submission, options)
        if submission.student == "cy":  # a result whose report entry can't be made
            return batch.replace(result, output=float("nan"))
        return result

    monkeypatch.setattr(batch, "load", failing_load)
    monkeypatch.setattr(batch, "grade_submission", unkeepable)
    gradebook, html = tmp_path / "gradebook.csv", tmp_path / "class.html"
    done = CliRunner().invoke(cli.main, [str(klass), "--no-cache", "--format", "csv", "-o", str(gradebook),
                                         "--html", str(html), "--timeout", "5"])
    assert done.exit_code == 0, done.output
    rows = {line.split(",")[0]: line for line in gradebook.read_text().splitlines()[1:]}
    assert set(rows) == {"ann", "bob", "cy"} and f",graded,{BACKPROP.max_score:g}," in rows["ann"]
    assert "internal grader error: RecursionError" in rows["bob"]
    assert "internal grader error: its result could not be kept" in rows["cy"]
    assert "ann" in html.read_text() and "bob" in html.read_text()


# 5. Intake before any limit.
def _remove_deep(top: Path) -> None:
    """A tree too deep for a recursive removal (pytest's would stop at Python's recursion limit)."""
    folders = [top]
    while True:
        inner = [p for p in folders[-1].iterdir() if p.is_dir() and not p.is_symlink()]
        if not inner:
            break
        folders.append(inner[0])
    for folder in reversed(folders):
        for item in folder.iterdir():
            if not item.is_dir() or item.is_symlink():
                item.unlink()
        folder.rmdir()


@pytest.mark.sandbox
def test_05_a_student_folder_1000_levels_deep_is_looked_into_8_levels_with_a_note(tmp_path):
    klass = tmp_path / "class"
    for name in ("ann", "zoe"):
        (klass / name).mkdir(parents=True)
        (klass / name / "backprop.py").write_text(SOLUTION)
    deep = klass / "ann"
    try:
        for _ in range(1000):
            deep = deep / "d"
            deep.mkdir()
        (deep / "x.py").write_text("x = 1\n")
        done = run_cli(str(klass), "--no-cache", "--format", "json")
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
        assert rows["ann"]["score"] == rows["zoe"]["score"] == BACKPROP.max_score
        assert rows["ann"]["notes"] == [f"not looked into: {'/'.join(['d'] * 9)}, more than 8 folders deep"]
    finally:
        _remove_deep(klass / "ann")


def test_05_a_folder_holding_more_than_a_student_may_show_is_read_in_part_with_a_note(tmp_path):
    from grader.intake.discovery import MAX_STUDENT_ENTRIES, discover

    (tmp_path / "ann" / "data").mkdir(parents=True)
    (tmp_path / "ann" / "backprop.py").write_text(SOLUTION)
    for index in range(MAX_STUDENT_ENTRIES + 500):  # read first: the folder's top level
        (tmp_path / "ann" / "data" / f"{index}.py").touch()
    [entry] = discover([tmp_path], BACKPROP)
    assert entry.path.name == "backprop.py" and entry.error is None
    assert ("looked at its first 1,000 files and folders only (hidden ones counted), all of a "
            "student's folder that is read: the rest was not read") in entry.notes


def test_05_a_class_past_its_count_says_so_and_every_student_still_has_a_row(tmp_path, monkeypatch):
    """Bounds lowered for the test (a class of 100,000 entries takes a while to write): what is
    past the class's count is a warning and error rows saying why, never the end of the run."""
    from grader.intake import discovery

    monkeypatch.setattr(discovery, "MAX_CLASS_ENTRIES", 30)
    monkeypatch.setattr(discovery, "MAX_STUDENT_ENTRIES", 10)
    for name in ("ann", "bob", "cy", "dee"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "backprop.py").write_text(SOLUTION)
        for index in range(8):
            (tmp_path / name / f"notes{index}.txt").touch()
    warnings: list[str] = []
    rows = {e.student: e for e in discovery.discover([tmp_path], BACKPROP, warnings=warnings)}
    assert list(rows) == ["ann", "bob", "cy", "dee"] and not warnings
    assert rows["ann"].error is None and rows["bob"].error is None  # 4 + 9 + 9: 22 of 30
    assert ("looked at its first 8 files and folders only (hidden ones counted), what was left of "
            "the 30 read in a class: the rest was not read") in rows["cy"].notes  # 8 left for its 9
    assert rows["dee"].error.startswith("not looked into: the class folder holds more than 30 files")
    for index in range(40):
        (tmp_path / f"s{index}.py").touch()
    discovery.discover([tmp_path], BACKPROP, warnings=warnings)
    assert warnings == [(f"{tmp_path} holds more than 30 entries: only the first 30 read were looked "
                         f"at; split the class")]


def test_05_choosing_the_file_parses_no_large_file_and_says_how_each_was_read(tmp_path, monkeypatch):
    """A 2.5 MB .py beside backprop.py is too large to be graded and is not read; a 700 KB
    one is judged by the names it defines, read as text; a notebook of 600 KB (its plots) is
    chosen over the stub by the same reading. No file past 512 KiB is parsed in the grader
    (before: each was parsed whole, a 10 MB file taking 6.1 GB). Padding of comments keeps the
    files cheap to parse should that regress."""
    import ast

    from conftest import STUB, notebook_text
    from grader.intake import which_file as choice
    from grader.intake.discovery import discover

    parsed = []
    real_parse = ast.parse

    def measured(source, *args, **kwargs):
        parsed.append(len(source))
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(choice.ast, "parse", measured)
    ann, ben = tmp_path / "ann", tmp_path / "ben"
    ann.mkdir()
    ben.mkdir()
    (ann / "backprop.py").write_text(SOLUTION)
    (ann / "huge.py").write_text(SOLUTION + "# padding\n" * 250_000)
    (ann / "medium.py").write_text(SOLUTION + "# padding\n" * 70_000)
    (ben / "backprop.py").write_text(STUB)
    (ben / "work.ipynb").write_text(notebook_text(SOLUTION, "# a plot's worth of output\n" * 25_000))
    rows = {e.student: e for e in discover([tmp_path], BACKPROP)}
    assert rows["ann"].path.name == "backprop.py" and rows["ben"].path.name == "work.ipynb"
    [note] = rows["ann"].notes
    huge = f"{(ann / 'huge.py').stat().st_size // 1024:,} KiB"
    assert f"huge.py (too large to be graded: {huge}, where a .py file may be 2,048 KiB)" in note

    # Read as text, a file answers the questions whose functions it defines (not the constants').
    functions = sum(not q.constants for q in BACKPROP.questions)
    answers = f"answers {functions} of the worksheet's {len(BACKPROP.questions)} questions"
    kib = f"{(ann / 'medium.py').stat().st_size // 1024:,} KiB"
    assert f"medium.py ({answers}; {kib}, more than the 512 KiB " \
           "read closely: its functions counted by name)" in note
    kib = f"{(ben / 'work.ipynb').stat().st_size // 1024:,} KiB"
    assert f"graded work.ipynb ({answers}; {kib}" in rows["ben"].notes[0]

    assert parsed and max(parsed) <= choice.MAX_PARSED


# 8. A link inside an honest student's folder.
@pytest.mark.sandbox
def test_08_link_beside_real_files_is_skipped_with_a_note_and_the_files_graded(tmp_path):
    """In a class folder: a link to / beside a real backprop.py is skipped with a note (no
    flag); a link named like a hand-in beside real work is flagged too. On Gradescope a link
    in the upload is still refused and flagged, as the README promises."""
    from grader.reports import gradescope

    klass = tmp_path / "class"
    (klass / "victor").mkdir(parents=True)
    (klass / "victor" / "backprop.py").write_text(SOLUTION)
    (klass / "victor" / "root").symlink_to("/")
    (klass / "wendy").mkdir()
    (klass / "wendy" / "backprop.py").write_text(SOLUTION)
    (klass / "wendy" / "answers.py").symlink_to(klass / "victor" / "backprop.py")
    done = run_cli(str(klass), "--no-cache", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
    assert rows["victor"]["score"] == BACKPROP.max_score and rows["victor"]["flags"] == []
    assert rows["victor"]["notes"] == ["not followed, not graded: root (symbolic link)"]
    assert rows["wendy"]["score"] == BACKPROP.max_score and rows["wendy"]["flags"] == ["handed in a symbolic link"]

    assert rows["wendy"]["notes"] == ["not followed, not graded: answers.py (symbolic link)"]
    with pytest.raises(gradescope.NoSubmission) as refused:
        gradescope.find_submission(klass / "victor", assignment.load("backprop"))
    assert "root is a symbolic link" in str(refused.value)
    assert refused.value.flags == ("handed in a symbolic link",)
