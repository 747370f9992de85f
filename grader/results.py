"""The outcome vocabulary: what grading one submission produced. Scores are derived, never stored."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from grader.assignment import Assignment, Question


class Unsupported:
    """An answer of a type that is not a number, sequence, text or array, as the sandbox
    brings it back: the name of its type."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsupported) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash(self.type_name)

    def __repr__(self) -> str:
        return f"Unsupported({self.type_name!r})"



class ErrorKind(str, enum.Enum):
    """Why a submission has no grade: the hand-in itself (it can't be found, read or compiled:
    grading it again says the same), or the grader (its sandbox could not run it, or the
    grader failed), which grading again may mend: such a result is never stored."""

    SUBMISSION = "submission"
    SANDBOX = "sandbox"
    INTERNAL = "internal"

    @property
    def transient(self) -> bool:
        return self is not ErrorKind.SUBMISSION



class Status(str, enum.Enum):
    """How one case, or a whole question, went; for a question, the worst case decides. These
    are the report's statuses; a function that ended its process (a segfault, os._exit) is
    "raised", with a message saying how it ended."""

    PASSED = "passed"
    WRONG = "wrong"
    RAISED = "raised"
    TIMEOUT = "timeout"
    MISSING = "missing"


# A question's status is its worst case's: a missing function outranks everything.
_SEVERITY = [Status.PASSED, Status.WRONG, Status.RAISED, Status.TIMEOUT,
             Status.MISSING]


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    case_label: str
    status: Status
    message: str = ""  # why it is not passed, for the student
    # The student's own functions this answer is built on that are wrong: the answer is right
    # given them (error carried forward). carried_kind says how: "value" (right given their
    # answers), "crash" (it failed only because of them), "could not run" (it failed only
    # because they could not run here, for want of a module), "matrix" (it failed only because
    # they returned an np.matrix), "trivial" (right given them, but their error left nothing
    # to get right: no credit).
    carried_from: tuple[str, ...] = ()
    worksheet: bool = False  # one of the worksheet's own cases
    carried_kind: str = ""
    precision: str | None = None  # "float32" for an answer computed in float32
    error: str | None = None  # the exception's type, where the function raised: "NotImplementedError"
    skipped: bool = False  # not run: an earlier case of its question ran out of time or ended the process
    # It failed for want of a module not installed (or not handed in) where it was graded: the
    # code could not run here, which says nothing of its maths.
    could_not_run: bool = False

    def without_message(self) -> CaseResult:
        return replace(self, message="")


@dataclass(frozen=True)
class Diagnosis:
    """A catalogued mistake the student's answer matches."""

    id: str
    summary: str  # for the class view: "7 students <summary>"


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    cases: tuple[CaseResult, ...]
    feedback: str
    diagnosis: Diagnosis | None = None
    # For a wrong answer no catalogue entry explains: a fingerprint of the answers on every
    # case, so that students who gave the same wrong answer can be grouped.
    answer_digest: str | None = None
    unanswered: bool = False  # not defined, or the stub's NotImplementedError still there

    # Derived once (the fields never change): a report asks for them again and again.
    @cached_property
    def passed_cases(self) -> int:
        return sum(c.status is Status.PASSED for c in self.cases)

    @cached_property
    def score(self) -> float:
        """The question's points, shared equally across its cases."""
        if not self.cases:
            return 0.0
        return round(self.question.points * self.passed_cases / len(self.cases), 4)

    @cached_property
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
    notes: tuple[str, ...] = ()  # what the grader did to the source (IPython lines set aside)
    missing_packages: tuple[str, ...] = ()  # imported, but not installed where it was graded
    late: bool = False  # the LMS marked the hand-in late (Canvas's LATE): kept for the gradebook
    lms: tuple[str, str] | None = None  # ("canvas", user id) or ("moodle", participant number)
    # The assignment's total, which an ungraded submission (an error) is out of too; None: its
    # questions' points.
    possible: float | None = None
    # What `error` is about, said by whoever made the result (a result with an error and no
    # kind is the hand-in's: never transient). None when there is no error.
    error_kind: ErrorKind | None = None

    @property
    def status(self) -> str:
        return "error" if self.error is not None else "graded"

    @property
    def error_is_transient(self) -> bool:
        """The grader failed, not the submission: grading again may succeed."""
        return self.error_kind is not None and self.error_kind.transient

    @cached_property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def could_not_run(self) -> bool:
        """Points were lost to code that could not run here for want of a module (see
        `missing_packages`): installing it where grading runs and grading again is all it takes."""
        return any(c.could_not_run and c.status is not Status.PASSED for q in self.questions for c in q.cases)

    @property
    def max_score(self) -> float:
        if self.possible is not None:
            return self.possible
        return sum(q.question.points for q in self.questions)


@dataclass(frozen=True)
class Report:
    assignment: Assignment
    seed: int
    # A sequence, or an iterable read once by a renderer, so that a class need not be held whole.
    submissions: Iterable[SubmissionResult]


def submission_to_dict(result: SubmissionResult) -> dict[str, Any]:
    """The JSON report's entry for one submission; `submission_from_dict` reads it back. The
    student's name as it may be shown (`printable`); when that differs, the name as found too
    (`student_raw`)."""
    shown = printable(result.student)
    return {
        "student": shown,
        **({"student_raw": result.student} if shown != result.student else {}),
        "path": result.path,
        "status": result.status,
        "error": result.error,
        **({"error_kind": result.error_kind.value} if result.error_kind is not None else {}),
        "score": float(result.score),
        "max_score": display_number(result.max_score),
        "flags": list(result.flags),
        "notes": list(result.notes),
        "missing_packages": list(result.missing_packages),
        "late": result.late,
        "lms": {"system": result.lms[0], "id": result.lms[1]} if result.lms else None,
        "load_errors": [{"where": e.where, "message": e.message} for e in result.load_errors],
        "output": result.output,
        "questions": [_question_to_dict(q) for q in result.questions],
    }


def _question_to_dict(result: QuestionResult) -> dict[str, Any]:
    return {
        "id": result.question.id,
        "worksheet": result.question.worksheet,
        "score": float(result.score),
        "max_score": display_number(result.question.points),
        "status": result.status.value,
        "feedback": result.feedback,
        "diagnosis": result.diagnosis.id if result.diagnosis else None,
        "diagnosis_summary": result.diagnosis.summary if result.diagnosis else None,
        "answer_digest": result.answer_digest,
        "unanswered": result.unanswered,
        "cases": [{"case": c.case_id, "label": c.case_label, "status": c.status.value,
                   "message": c.message, "carried_from": list(c.carried_from),
                   "carried_kind": c.carried_kind, "precision": c.precision,
                   "worksheet": c.worksheet, "could_not_run": c.could_not_run, "error": c.error}
                  for c in result.cases],
    }


def submission_from_dict(data: dict[str, Any], assignment: Assignment) -> SubmissionResult:
    """Rebuild a result the grader itself wrote (a stored result, never student output) for
    its assignment."""
    question = assignment.question
    questions = tuple(
        QuestionResult(question(q["id"]),
                       tuple(CaseResult(c["case"], c["label"], Status(c["status"]), c["message"],
                                        tuple(c["carried_from"]), c["worksheet"],
                                        c.get("carried_kind", ""), c.get("precision"),
                                        could_not_run=bool(c.get("could_not_run", False)),
                                        error=_error_name(c.get("error")))
                             for c in q["cases"]),
                       q["feedback"],
                       Diagnosis(q["diagnosis"], q["diagnosis_summary"]) if q["diagnosis"] else None,
                       q.get("answer_digest"), q.get("unanswered", False))
        for q in data["questions"]
    )
    return SubmissionResult(
        student=data.get("student_raw", data["student"]), path=data["path"], error=data["error"], questions=questions,
        error_kind=ErrorKind(data["error_kind"]) if data.get("error_kind") else None,
        load_errors=tuple(LoadError(e["where"], e["message"]) for e in data["load_errors"]),
        output=data["output"], flags=tuple(data["flags"]), notes=tuple(data["notes"]),
        missing_packages=tuple(data.get("missing_packages", ())), late=bool(data.get("late", False)),
        lms=(data["lms"]["system"], data["lms"]["id"]) if data.get("lms") else None,
        possible=data.get("max_score"),
    )


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7f, 0xa0))}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_CONTROL_KEEPING_LINES = {**_CONTROL}
del _CONTROL_KEEPING_LINES[ord("\n")]
# Characters that draw nothing (or draw a blank) although Unicode counts them as letters or
# marks: Hangul fillers, the combining grapheme joiner, Mongolian and other variation
# selectors, Khmer's inherent vowels. With the format characters (bidirectional controls,
# zero-width spaces and joiners, tags) they are Unicode's default-ignorable code points.
_INVISIBLE = frozenset([0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F,
                        0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _shown(match: re.Match) -> str:
    """A character beyond ASCII as it is, or as an escape where it draws nothing, changes how
    the text around it is laid out (U+202E turns `gnp.exe` around) or is not a character
    (a lone surrogate from a file name that is not UTF-8). Spaces of other scripts (U+3000)
    stay: they are seen."""
    char = match.group()
    if (char.isprintable() and ord(char) not in _INVISIBLE) or unicodedata.category(char) == "Zs":
        return char
    return _escape(char)


def printable(text: str, lines: bool = False) -> str:
    """Text a student controls (a file name, an exception's message, printed output) as it
    may be shown: every control character written out as an escape (an ANSI escape code can't
    redraw a terminal, a newline can't make a fake row), and so is every character that is
    invisible or reorders what follows (bidirectional controls, zero-width characters: a name
    can't pass for another); with `lines`, newlines are kept."""
    text = text.translate(_CONTROL_KEEPING_LINES if lines else _CONTROL)
    return text if text.isascii() else _NOT_ASCII.sub(_shown, text)


def display_number(x: float) -> float | int:
    """Whole numbers as ints in reports (20, not 20.0)."""
    return int(x) if float(x).is_integer() else round(x, 4)


_ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")


def _error_name(value: Any) -> str | None:
    """An exception's type as a stored result keeps it (the grader wrote it; checked all the same)."""
    return value if isinstance(value, str) and _ERROR_NAME.fullmatch(value) else None
