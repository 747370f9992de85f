"""Orchestration: a submission's cells in, a SubmissionResult out.

The expected values are computed once per seed by calling the reference (the model answer), in
this process; the student's functions are called in the sandbox on the same arguments; the
verdicts are made here, by `compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader import assignment, compare, sandbox
from grader.assignment import Case, Question
from grader.loading import Submission, SubmissionError, load
from grader.results import CaseResult, LoadError, QuestionResult, Status, SubmissionResult


@dataclass(frozen=True)
class Options:
    """Everything that changes a grade, travelling as one value."""

    seed: int = assignment.DEFAULT_SEED
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    # Folders a submission must not read (the class folders being graded); each submission's
    # own folder is added.
    private_paths: tuple[str, ...] = ()


def answer_key_paths() -> tuple[str, ...]:
    """The grader's package and the model answer's: blocked and flagged in the sandbox."""
    reference = Path(assignment.load_reference().__file__).parent
    return (str(Path(__file__).resolve().parent), str(reference.resolve()))


@dataclass(frozen=True)
class Check:
    """One question on one case: the call to make and the reference's answer to it."""

    question: Question
    case: Case
    args: tuple
    expected: Any


@lru_cache(maxsize=8)
def plan(seed: int) -> tuple[Check, ...]:
    """Every check of the assignment for a seed, in question order, then case order."""
    reference = assignment.load_reference()
    checks = []
    for question in assignment.QUESTIONS:
        for case in assignment.cases(seed):
            args = tuple(question.arguments(case.network, reference))
            checks.append(Check(question, case, args, getattr(reference, question.id)(*args)))
    return tuple(checks)


_OUTCOME_STATUS = {
    "raised": Status.RAISED, "refused": Status.WRONG, "missing": Status.MISSING,
    "timeout": Status.TIMEOUT, "crashed": Status.CRASHED,
}


def _case_result(submission: Submission, check: Check, outcome: sandbox.CallOutcome) -> CaseResult:
    if outcome.status == "returned":
        message = compare.compare(check.question, outcome.value, check.expected)
        status = Status.PASSED if message is None else Status.WRONG
        return CaseResult(check.case.id, check.case.label, status, message or "")
    message = outcome.message
    if outcome.status == "raised" and outcome.line is not None:
        message = f"{message} ({_where(submission, outcome.cell, outcome.line)})"
    return CaseResult(check.case.id, check.case.label, _OUTCOME_STATUS[outcome.status], message)


def _feedback(question: Question, cases: tuple[CaseResult, ...]) -> str:
    """One line: all good, or the first problem with the case it happened on."""
    failing = [c for c in cases if c.status is not Status.PASSED]
    if not failing:
        return f"correct on all {len(cases)} cases"
    first = failing[0]
    if first.status is Status.MISSING:
        return f"not defined: write a function named {question.id}"
    if all(c.message.startswith("NotImplementedError") for c in failing) and len(failing) == len(cases):
        return "not answered yet: the function still raises NotImplementedError"
    tally = f" ({len(cases) - len(failing)}/{len(cases)} cases correct)"
    return f"{first.case_label}: {first.message}{tally}"


def _where(submission: Submission, cell: int | None, line: int | None) -> str:
    """'line 12' in a .py file, 'cell 3, line 2' in a notebook (code cells counted from 1)."""
    where = f"line {line}" if line is not None else "top level"
    if not submission.notebook or cell is None:
        return where
    return f"cell {cell + 1}, {where}"


def grade_submission(submission: Submission, options: Options = Options()) -> SubmissionResult:
    """Run the submission's cells in the sandbox and grade every question."""
    checks = plan(options.seed)
    calls = [sandbox.Call(key, check.question.names, check.args, check.question.id)
             for key, check in enumerate(checks)]
    confinement = sandbox.Confinement(
        protected=answer_key_paths(),
        hidden=(*options.private_paths, str(Path(submission.path).resolve().parent)),
    )
    try:
        run = sandbox.run(list(submission.cells), calls, options.limits, confinement)
    except sandbox.SandboxError as exc:
        return SubmissionResult(submission.student, submission.path, error=f"sandbox failure: {exc}")
    by_question: dict[str, list[CaseResult]] = {}
    for key, check in enumerate(checks):
        by_question.setdefault(check.question.id, []).append(
            _case_result(submission, check, run.outcomes[key]))
    questions = tuple(
        QuestionResult(q, tuple(by_question[q.id]), _feedback(q, tuple(by_question[q.id])))
        for q in assignment.QUESTIONS
    )
    load_errors = tuple(LoadError(_where(submission, p.cell, p.line), p.message)
                        for p in run.load_problems)
    output = run.output + ("\n[... output cut]" if run.output_chars > len(run.output) else "")
    return SubmissionResult(submission.student, submission.path, questions=questions,
                            load_errors=load_errors, output=output, notes=submission.notes,
                            flags=run.flags)


def grade_path(path: Path, options: Options = Options(), student: str | None = None) -> SubmissionResult:
    """Grade one hand-in on disk; a file that can't be read or compiled gets status error."""
    try:
        submission = load(path, student)
    except SubmissionError as exc:
        return SubmissionResult(student or path.stem, str(path), error=str(exc))
    return grade_submission(submission, options)
