"""The outcome vocabulary: what grading one submission produced. Scores are derived, never stored."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from grader.assignment import Question


class Status(str, enum.Enum):
    """How one case, or a whole question, went; for a question, the worst case decides."""

    PASSED = "passed"
    WRONG = "wrong"
    RAISED = "raised"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    MISSING = "missing"


# A question's status is its worst case's: a missing function outranks everything.
_SEVERITY = [Status.PASSED, Status.WRONG, Status.RAISED, Status.CRASHED, Status.TIMEOUT,
             Status.MISSING]


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    case_label: str
    status: Status
    message: str = ""  # why it is not passed, for the student


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    cases: tuple[CaseResult, ...]
    feedback: str

    @property
    def passed_cases(self) -> int:
        return sum(c.status is Status.PASSED for c in self.cases)

    @property
    def score(self) -> float:
        """The question's points, shared equally across its cases."""
        if not self.cases:
            return 0.0
        return round(self.question.points * self.passed_cases / len(self.cases), 4)

    @property
    def status(self) -> Status:
        return max((c.status for c in self.cases), key=_SEVERITY.index, default=Status.MISSING)


@dataclass(frozen=True)
class LoadError:
    """A top-level statement of the student's file that raised, hung or crashed."""

    where: str  # "line 12", or "cell 3, line 2" in a notebook
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    path: str
    error: str | None = None  # set when the submission could not be graded at all
    questions: tuple[QuestionResult, ...] = ()
    load_errors: tuple[LoadError, ...] = ()
    output: str = ""  # an excerpt of what the student's code printed
    flags: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        return "error" if self.error is not None else "graded"

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        from grader.assignment import MAX_SCORE

        return MAX_SCORE


@dataclass(frozen=True)
class Report:
    assignment: str
    seed: int
    submissions: tuple[SubmissionResult, ...]
