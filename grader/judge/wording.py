"""The words a question's answer gets on its cases, and which catalogued mistake explains it,
shared by the grader (`feedback`, `diagnose`) and the self-check file students run, which
copies this module (see `selfcheck.handout`): so that one answer gets one sentence from both.

Pure, and standard Python only: nothing here imports the grader, numpy or anything beyond
what the self-check file can hold, on a student's Python (which may be older than the
grader's).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NOT_ANSWERED = "not answered yet: the function still raises NotImplementedError"


def tally(passed: int, total: int) -> str:
    """" (2/5 cases correct)" after a line about several cases; nothing after one about one."""
    return f" ({passed}/{total} cases correct)" if total > 1 else ""


def right(total: int) -> str:
    """Every case right."""
    return f"correct on all {total} cases" if total > 1 else "correct"


def diagnosed(explain: str, passed: int, total: int) -> str:
    """A wrong answer a catalogued mistake explains: its explanation, then the tally."""
    return f"{explain}{tally(passed, total)}"


def first_wrong(label: str, message: str, passed: int, total: int) -> str:
    """A wrong answer nothing explains: what the comparison says of the first wrong case (no
    case named, no tally, for a question asked once)."""
    return message if total == 1 else f"{label}: {message}{tally(passed, total)}"


def most_telling(matches: Iterable[tuple[Any, int]]) -> Any:
    """Of the catalogued mistakes a wrong answer matches on every case, each with the number of
    cases on which it differs from the right answer: the one told apart on the most, the first
    in the catalogue of those; None when none is told apart on any (it is then the right answer
    there, and explains nothing)."""
    best, best_count = None, 0
    for mistake, told_apart in matches:
        if told_apart > best_count:
            best, best_count = mistake, told_apart
    return best
