"""Orchestration: a submission's cells in, a SubmissionResult out.

The expected values are computed once per seed by calling the reference (the model answer), in
this process; the student's functions are called in the sandbox on the same arguments; the
verdicts, the diagnoses and any credit carried forward are decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader import assignment, carry, catalogue, compare, diagnose, feedback, sandbox
from grader._standins import SERIES_WORK, missing_message
from grader.assignment import Case, Question
from grader.loading import Submission, SubmissionError, load
from grader.results import (CaseResult, Diagnosis, LoadError, QuestionResult, Status,
                            SubmissionResult)

# Rounds of extra calls the carried-forward replay may ask for: one per link of the longest
# chain in the model answer (cost_function_prime: forward, delta3, delta2, dJdW1, dJdW2).
_CARRY_ROUNDS = 6


@dataclass(frozen=True)
class Options:
    """Everything that changes a grade, travelling as one value."""

    seed: int = assignment.DEFAULT_SEED
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    # Folders a submission must not read (the class folders being graded); each submission's
    # own folder is added.
    private_paths: tuple[str, ...] = ()
    carry_forward: bool = True  # credit an answer that is right given the student's own earlier functions
    catalogues: tuple[str, ...] = (str(catalogue.DEFAULT_CATALOGUE),)


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
            if question.only_case not in (None, case.id):
                continue
            args = tuple(question.arguments(case.network, reference))
            checks.append(Check(question, case, args, question.expected(reference, args)))
    return tuple(checks)


@lru_cache(maxsize=8)
def calls(seed: int) -> tuple[sandbox.Call, ...]:
    """The sandbox calls of every check, built once per seed and reused for every submission."""
    return tuple(sandbox.Call(key, check.question.names, check.args, check.question.id,
                              _network(check) if check.question.id in SERIES_QUESTIONS else None,
                              read=bool(check.question.constants))
                 for key, check in enumerate(plan(seed)))


# The questions a submission written as the series' Neural_Network class can answer.
SERIES_QUESTIONS = ("forward", "sigmoid_prime", "cost", "cost_function_prime")


def _network(check: Check) -> tuple:
    net = check.case.network
    return (net.X, net.y, net.W1, net.W2)


@lru_cache(maxsize=8)
def mistakes_by_question(catalogues: tuple[str, ...]) -> dict[str, tuple[catalogue.Mistake, ...]]:
    found: dict[str, list[catalogue.Mistake]] = {}
    for mistake in catalogue.load(tuple(Path(p) for p in catalogues)):
        found.setdefault(mistake.question, []).append(mistake)
    return {question: tuple(items) for question, items in found.items()}


@lru_cache(maxsize=8)
def mistake_answers(seed: int, catalogues: tuple[str, ...]) -> tuple[tuple[Any, ...], ...]:
    """For each check, each catalogued mistake's answer on its arguments (or FAILED)."""
    reference = assignment.load_reference()
    by_question = mistakes_by_question(catalogues)
    return tuple(
        tuple(catalogue.evaluate(m, reference, check.args, check.expected)
              for m in by_question.get(check.question.id, ()))
        for check in plan(seed)
    )


_OUTCOME_STATUS = {
    "raised": Status.RAISED, "refused": Status.WRONG, "missing": Status.MISSING,
    "timeout": Status.TIMEOUT, "crashed": Status.RAISED,
}


def _where(submission: Submission, cell: int | None, line: int | None) -> str:
    """'line 12' in a .py file, 'cell 3, line 2' in a notebook (code cells counted from 1)."""
    where = f"line {line}" if line is not None else "top level"
    if not submission.notebook or cell is None:
        return where
    return f"cell {cell + 1}, {where}"


def _case_result(submission: Submission, check: Check, outcome: sandbox.CallOutcome,
                 carried: carry.Replay | None, options: Options) -> CaseResult:
    case = check.case
    if outcome.status == "returned":
        message = compare.compare(check.question, outcome.value, check.expected)
        if message is None:
            return CaseResult(case.id, case.label, Status.PASSED, worksheet=case.worksheet)
        if carried is not None:
            status = Status.PASSED if options.carry_forward else Status.WRONG
            return CaseResult(case.id, case.label, status, message, carried.wrong, case.worksheet)
        return CaseResult(case.id, case.label, Status.WRONG, message, worksheet=case.worksheet)
    message = outcome.message
    if outcome.status == "crashed":
        message = f"the function {message}" if message.startswith(("was killed", "ended")) else message
    if outcome.status == "raised" and outcome.line is not None:
        message = f"{message} ({_where(submission, outcome.cell, outcome.line)})"
    return CaseResult(case.id, case.label, _OUTCOME_STATUS[outcome.status], message,
                      worksheet=case.worksheet)


def _carried_forward(run_again, checks, outcomes) -> dict[int, carry.Replay]:
    """Checks whose wrong answer is the reference's formula applied to the student's own
    wrong functions: key -> the replay that matched."""
    reference = assignment.load_reference()
    known = carry.Known({})
    for key, check in enumerate(checks):
        outcome = outcomes[key]
        known.add(check.question.id, check.args, outcome.status, outcome.value)
    pending = [key for key, check in enumerate(checks)
               if outcomes[key].status == "returned"
               and carry.dependencies(reference, check.question.id)
               and compare.compare(check.question, outcomes[key].value, check.expected) is not None]
    matched: dict[int, carry.Replay] = {}
    for _ in range(_CARRY_ROUNDS):
        needs: list[carry.NeedCall] = []
        still = []
        for key in pending:
            check = checks[key]
            try:
                replayed = carry.replay(reference, check.question.id, check.args, known)
            except carry.NeedCall as need:
                if not any(n.function == need.function and carry.same_args(n.args, need.args)
                           for n in needs):
                    needs.append(need)
                still.append(key)
                continue
            except Exception:  # the student's answers break the reference's formula: no credit
                continue
            if replayed.wrong and compare.compare(check.question, outcomes[key].value,
                                                  replayed.value) is None:
                matched[key] = replayed
        if not needs:
            break
        for need, outcome in zip(needs, run_again(needs)):
            known.add(need.function, need.args, outcome.status, outcome.value)
        pending = still
    return matched


def grade_submission(submission: Submission, options: Options = Options(),
                     runner=sandbox.run) -> SubmissionResult:
    """Run the submission's cells in the sandbox and grade every question. `runner` is
    `sandbox.run` but for the in-process self-check, which answers the same calls."""
    checks = plan(options.seed)
    confinement = sandbox.Confinement(
        protected=answer_key_paths(),
        hidden=(*options.private_paths, str(Path(submission.path).resolve().parent)),
    )

    def run_again(needs: list[carry.NeedCall]) -> list[sandbox.CallOutcome]:
        extra = [sandbox.Call(key, assignment.question(need.function).names, need.args, need.function)
                 for key, need in enumerate(needs)]
        again = runner(list(submission.cells), extra, options.limits, confinement,
                       submission.modules)
        return [again.outcomes[call.key] for call in extra]

    try:
        run = runner(list(submission.cells), list(calls(options.seed)), options.limits, confinement,
                     submission.modules)
        # A file that already ran out of time is not run again for carried-forward credit.
        slow = any(o.status == "timeout" for o in run.outcomes.values()) or \
            any(p.kind == "timeout" for p in run.load_problems)
        carried = {} if slow else _carried_forward(run_again, checks, run.outcomes)
    except sandbox.SandboxError as exc:
        return SubmissionResult(submission.student, submission.path, error=f"sandbox failure: {exc}")

    series_class = "Neural_Network" in run.defined
    notes = submission.notes + _run_notes(run, checks, submission)
    answers = mistake_answers(options.seed, options.catalogues)
    mistakes = mistakes_by_question(options.catalogues)
    questions = []
    for question in assignment.QUESTIONS:
        keys = [key for key, check in enumerate(checks) if check.question is question]
        cases = tuple(_case_result(submission, checks[k], run.outcomes[k], carried.get(k), options)
                      for k in keys)
        found = None
        if not any(c.carried_from for c in cases) and \
                any(c.status is not Status.PASSED for c in cases):
            evidence = [diagnose.Evidence(_student_value(run.outcomes[k]), checks[k].expected,
                                          answers[k]) for k in keys]
            found = diagnose.diagnose(question, mistakes.get(question.id, ()), evidence)
        near = fragment = None
        if cases[0].status is Status.MISSING:
            near = feedback.near_miss(question, run.defined)
            fragment = next((n for n in question.names if n in run.fragments), None)
        text = feedback.question_feedback(question, cases, diagnosis=found, near_miss=near,
                                          series_class=series_class, fragment=fragment)
        questions.append(QuestionResult(question, cases, text,
                                        Diagnosis(found.id, found.summary) if found else None))
    load_errors = tuple(LoadError(_where(submission, p.cell, p.line), p.message)
                        for p in run.load_problems)
    output = run.output + ("\n[... output cut]" if run.output_chars > len(run.output) else "")
    return SubmissionResult(submission.student, submission.path, questions=tuple(questions),
                            load_errors=load_errors, output=output, notes=notes,
                            flags=run.flags, missing_packages=run.missing)


def _run_notes(run: sandbox.RunResult, checks: tuple[Check, ...], submission: Submission) -> tuple[str, ...]:
    """What the grader provided or stood in for while the submission ran, one line each."""
    notes = []
    adapted = tuple(dict.fromkeys(checks[key].question.id for key, outcome in run.outcomes.items()
                                  if outcome.via == "class" and key < len(checks)))
    if adapted:
        notes.append(f"graded the series' Neural_Network class for {', '.join(adapted)}")
    notes += [f"{missing_message(package)} (only the code that uses it could not run)"
              for package in run.missing]
    if run.standins:
        modules = " and ".join(run.standins)
        texts = [p.message for p in run.load_problems] + [o.message for o in run.outcomes.values()]
        lacking = [name for name in SERIES_WORK
                   if any(f"name '{name}' is not defined" in text for text in texts)]
        if lacking:
            files = " and ".join(f"{m}.py" for m in run.standins)
            notes.append(f"{modules} not handed in: the grader's stand-in holds only the series' "
                         f"data (X, y and np), not your {' and '.join(lacking)}; hand in {files} "
                         f"with your {'notebook' if submission.notebook else 'file'}")
        else:
            notes.append(f"{modules} not handed in: the grader provided the series' data "
                         f"(X, y and np)")
    return tuple(notes)


def _student_value(outcome: sandbox.CallOutcome) -> Any:
    if outcome.status == "returned":
        return outcome.value
    return diagnose.RAISED if outcome.status == "raised" else diagnose.UNKNOWN


def grade_path(path: Path, options: Options = Options(), student: str | None = None,
               folder: Path | None = None) -> SubmissionResult:
    """Grade one hand-in on disk; a file that can't be read or compiled gets status error.
    `folder` is the student's own folder, whose other .py files the hand-in may import."""
    try:
        submission = load(path, student, folder)
    except SubmissionError as exc:
        return SubmissionResult(student or path.stem, str(path), error=str(exc))
    return grade_submission(submission, options)
