"""Hostile submissions and class folders, third round: answers without a budget, intake before
any limit, a link beside an honest hand-in. Each test is named for the issue's item it answers.

Every attack here is bounded so that it can't hurt the machine if a protection regresses: answers
of a few MB at most, folders of a few thousand entries, files of a few MB.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST, SOLUTION, run_cli, with_solution
from grader import _wire, batch, sandbox
from grader.grading import Options
from grader.report import submission_json


def question(result, question_id):
    return next(q for q in result.questions if q.question.id == question_id)


# 4. Answers without a budget.
def test_04_a_bytes_answer_past_the_budget_is_refused_and_costs_its_question_only(grade):
    """2 MB of bytes: refused while the student's process encodes it; the report quotes
    nothing of it (before: each case's message held its whole repr, 8 MB, in the report)."""
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return bytes(range(256)) * 8192\n"))
    message = question(result, "dJdW2").cases[0].message
    assert message.startswith("returned a bytes value of 2,097,152 bytes, more than the 1,048,576 bytes")
    assert result.score == 16  # dJdW2, and cost_function_prime, which returns its answer
    assert len(submission_json(result)) < 100_000


def test_04_a_nest_of_empty_lists_is_charged_for_every_list(grade):
    """360,000 empty lists: 1.8 MB as encoded, past the budget though no number is in it
    (before: sent whole, rebuilt as 360,000 lists per case and compared as an array)."""
    result = grade(with_solution("_N = [[[]] * 600] * 600\ndef dJdW2(a2, delta3):\n    return _N\n"))
    case = question(result, "dJdW2").cases[0]
    assert case.message.startswith("returned a sequence of 600 items, more than the 1,048,576 bytes")
    assert "empty lists too" in case.message and result.score == 16


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
    plain = sandbox._outcome(b"V", big, frozenset(), limits)
    record = encode(["returned", big, None, None, None, None, None, False, None], [_wire.UNLIMITED])
    recorded = sandbox._outcome(b"R", record, frozenset(), limits)
    for outcome in (plain, recorded):
        assert outcome.status == "refused" and "2005 bytes, more than the 1000 allowed" in outcome.message
    assert sandbox._outcome(b"V", encode([[]] * 100, [10 ** 6]), frozenset(), limits).value == [[]] * 100


def test_04_nesting_is_bounded_both_ways():
    encode = _wire.make_encoder(np)
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert "nested too deeply" in repr(_wire.decode(encode(deep, [10 ** 6]), np))
    with pytest.raises(_wire.ProtocolError):
        _wire.decode(b"l\x00\x00\x00\x01" * 100 + b"N", np)


def test_04_all_of_a_submissions_answers_share_one_budget(grade):
    """Each answer within its own budget, but together past the submission's: the answers past
    it are refused (that call only), and what the grader holds for one submission stays bounded."""
    limits = sandbox.Limits(timeout=2.0, max_answer_bytes=64 * 1024, max_answers_total=256 * 1024)
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return b'x' * 60_000\n"),
                   options=Options(limits=limits))
    messages = [c.message for c in question(result, "dJdW2").cases]
    assert sum("not kept: with it, your answers would take more than the 262,144 bytes" in m
               for m in messages) >= 1
    assert question(result, "forward").score == 1 and question(result, "dJdW1").score == 1


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
    assert set(rows) == {"ann", "bob", "cy"} and ",graded,20," in rows["ann"]
    assert "internal grader error: RecursionError" in rows["bob"]
    assert "internal grader error: its result could not be kept" in rows["cy"]
    assert "ann" in html.read_text() and "bob" in html.read_text()
