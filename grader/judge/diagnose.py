"""Name the mistake behind a wrong answer: pure functions over values already computed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from grader.assignment import Question
from grader.judge import compare, wording
from grader.judge.catalogue import Failed, Mistake

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
    told apart from the right answer on at least one; the most often told apart wins, then the
    first in the catalogue (`wording.most_telling`). None for a right answer or an unknown
    mistake. An answer and an entry's match when their readings do (`compare.as_read`: the
    self-check file reads both so too), within the tolerance."""
    if any(case.student is UNKNOWN for case in cases):
        return None
    if all(case.student is not RAISED and compare.agrees(question, case.student, case.expected) for case in cases):
        return None
    read = [case.student if case.student is RAISED else compare.as_read(question, case.student, case.expected)
            for case in cases]
    return wording.most_telling(_matches(question, mistakes, cases, read))


def _matches(question: Question, mistakes: Sequence[Mistake], cases: Sequence[Evidence],
             read: list[Any]) -> Iterator[tuple[Mistake, int]]:
    """Each entry the answers (`read`) match on every case, with the cases it is told apart
    from the right answer on."""
    for index, mistake in enumerate(mistakes):
        told_apart = 0
        for case, student in zip(cases, read, strict=True):
            answer = case.entries[index]
            failed = isinstance(answer, Failed)  # FAILED, or an Unnamed (never in a valid catalogue)
            if failed or student is RAISED:
                if not (failed and student is RAISED):
                    break
                continue
            answer = _as_student_value(answer)
            if not compare.same_reading(question, student, compare.as_read(question, answer, case.expected)):
                break
            if not compare.agrees(question, answer, case.expected):
                told_apart += 1
        else:
            yield mistake, told_apart


def _as_student_value(answer: Any) -> Any:
    """Entries are Python values; student answers arrive as lists, arrays and numbers."""
    if isinstance(answer, tuple):
        return [_as_student_value(a) for a in answer]
    return answer
