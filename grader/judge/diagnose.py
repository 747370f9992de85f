"""Name the mistake behind a wrong answer: pure functions over values already computed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grader.assignment import Question
from grader.judge import compare
from grader.judge.catalogue import FAILED, Mistake

RAISED = object()  # the student's function raised on that case
UNKNOWN = object()  # no answer to compare (timeout, crash, missing)


@dataclass(frozen=True)
class Evidence:
    """One case: what the student gave, the right answer, and each entry's answer."""

    student: Any  # a value, RAISED or UNKNOWN
    expected: Any
    entries: Sequence[Any]  # parallel to the mistakes considered; a value or FAILED


def diagnose(question: Question, mistakes: Sequence[Mistake], cases: Sequence[Evidence]) -> Mistake | None:
    """The catalogue entry the student's answers match on every case, where that entry can be
    told apart from the right answer on at least one; the most often distinguishable wins,
    then the first in the catalogue. None for a right answer or an unknown mistake."""
    def same(value: Any, other: Any) -> bool:
        return compare.agrees(question, value, other)

    if any(case.student is UNKNOWN for case in cases):
        return None
    if all(case.student is not RAISED and same(case.student, case.expected) for case in cases):
        return None
    best, best_count = None, 0
    for index, mistake in enumerate(mistakes):
        distinguishing = 0
        for case in cases:
            answer = case.entries[index]
            if answer is FAILED or case.student is RAISED:
                if not (answer is FAILED and case.student is RAISED):
                    break
                continue
            if not same(case.student, _as_student_value(answer)):
                break
            if not same(_as_student_value(answer), case.expected):
                distinguishing += 1
        else:
            if distinguishing > best_count:
                best, best_count = mistake, distinguishing
    return best


def _as_student_value(answer: Any) -> Any:
    """Entries are Python values; student answers arrive as lists, arrays and numbers."""
    if isinstance(answer, tuple):
        return [_as_student_value(a) for a in answer]
    return answer
