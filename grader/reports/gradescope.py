"""Gradescope: results.json as its autograder specification defines it, and the command a
Gradescope `run_autograder` calls.

Specification: https://gradescope-autograders.readthedocs.io/en/latest/specs/ - a top-level
score, execution_time (seconds), output and tests; each test has a name, number, score,
max_score, status ("passed"/"failed"), output and visibility: when the student sees it
(VISIBILITIES: always, never, after the due date, once the instructor publishes the grades).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.intake.discovery import Refused, gradable_files, pick
from grader.intake.which_file import Choice
from grader.reports.table import case_lines
from grader.results import SubmissionResult, display_number, printable

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def results_json(result: SubmissionResult, execution_time: float,
                 assignment: Assignment, visibility: str = "visible") -> dict[str, Any]:
    """The results.json document for one submission, graded or not, one test per question
    of the assignment, each test shown as `visibility` says."""
    overall = []
    if result.error is not None:
        overall.append(f"Your submission could not be graded: {result.error}")
    overall += [f"While loading your file, {e}: what was defined before it was graded."
                for e in result.load_errors]
    overall += list(result.notes)
    if result.flags:
        overall.append("Flagged for the instructor: " + ", ".join(result.flags))
    if result.error is None:
        overall.append(f"Total: {display_number(result.score):g} / {display_number(result.max_score):g}")
    tests = []
    by_id = {q.question.id: q for q in result.questions}
    for number, question in enumerate(assignment.questions, start=1):
        graded = by_id.get(question.id)
        score = graded.score if graded else 0.0
        output = graded.feedback if graded else f"not graded: {result.error}"
        if graded and not graded.feedback:  # the instructor shows scores only (--feedback)
            output = "score only: no feedback is shown for this question"
        elif graded:
            output = "\n".join([output, *case_lines(graded, "  ")])
        tests.append({
            "name": f"{question.id} ({question.worksheet})",
            "number": str(number),
            "score": float(score),
            "max_score": float(question.points),
            "status": "passed" if score >= question.points else "failed",
            "output": output,
            "visibility": visibility,
        })
    return {
        "score": float(result.score),
        "execution_time": max(1, round(execution_time)),
        "output": "\n".join(overall),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


class NoSubmission(Exception):
    """The submission folder holds nothing to grade; the message says what was found, and
    `flags` what the instructor is told (a link handed in)."""

    def __init__(self, message: str, flags: tuple[str, ...] = ()):
        super().__init__(message)
        self.flags = flags


def find_submission(folder: Path, assignment: Assignment) -> Choice:
    """The .py or .ipynb in a Gradescope submission folder to grade (searched recursively,
    never through a link: a link or special file anywhere in it is refused); among several,
    the one that does the worksheet (see `choice`: an untouched stub named backprop.py never
    beats the real work), the others listed in the results."""
    if not folder.is_dir():
        raise NoSubmission(f"no submission folder at {folder}")
    try:
        found = gradable_files(folder)
    except Refused as refused:
        raise NoSubmission(str(refused), (refused.flag,) if refused.flag else ()) from None
    if not found.files:
        with os.scandir(folder) as listing:  # a few names, of a folder that may hold any number
            names = sorted(printable(entry.name) for entry in itertools.islice(listing, 1000))
        found_names = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "nothing"
        raise NoSubmission(f"no .py or .ipynb file was submitted (found: {found_names}); submit "
                           f"{assignment.handin}.py or {assignment.handin}.ipynb")
    return replace(pick(list(found.files), folder, lms=False, assignment=assignment), searched=found.notes)
