"""Orchestration: a submission's cells in, a SubmissionResult out.

The expected values are computed once per seed by calling the reference (the model answer), in
this process; the student's functions are called in the sandbox on the same arguments, once;
the verdicts, the diagnoses and any credit carried forward are decided here, from that one run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from grader import sandbox
from grader.assignment import Assignment, Case, OwnGradient, Question
from grader.intake.loading import Submission, SubmissionError, check_compiles, load
from grader.judge import absence, carry, catalogue, diagnose, feedback, own_gradient, verdict, wiring
from grader.judge.absence import Reason
from grader.judge.verdict import Check
from grader.results import CaseResult, Diagnosis, ErrorKind, LoadError, QuestionResult, Status, SubmissionResult
from grader.sandbox import missing_message
from grader.sandbox.child.protocol import fingerprint

# How much of the grading a student sees: everything; expected values (and shapes) only on
# the cases whose answers are published (the worksheet's own, in the notes, the key and the
# self-check file), never on the seeded ones, so that resubmitting can't harvest them (what
# the autograders show by default); no expected value at all; or the scores alone.
FEEDBACK_LEVELS = ("full", "published", "no-expected", "score-only")


@dataclass(frozen=True)
class Options:
    """Everything that changes a grade, travelling as one value: the assignment first (there
    is no default one: the engine grades whatever assignment it is given)."""

    assignment: Assignment
    seed: int | None = None  # None: the assignment's default seed
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    # Folders a submission must not read (the class folders being graded); each submission's
    # own folder is added.
    private_paths: tuple[str, ...] = ()
    carry_forward: bool = True  # credit an answer that is right given the student's own earlier functions
    # The catalogue files of known mistakes; None: the assignment's own.
    catalogues: tuple[str, ...] | None = None
    feedback: str = "full"  # one of FEEDBACK_LEVELS

    def __post_init__(self) -> None:
        if self.seed is None:
            object.__setattr__(self, "seed", self.assignment.default_seed)
        if self.catalogues is None:
            object.__setattr__(self, "catalogues", (str(self.assignment.catalogue_path),))


def answer_key_paths(options: Options | None = None) -> tuple[str, ...]:
    """Every copy of the grader's package and the model answer, and the catalogues in use:
    hidden from the sandbox, blocked and flagged."""
    from grader.sandbox import key_copies

    if options is None:
        return key_copies.answer_key_copies()
    return key_copies.answer_key_copies(options.catalogues, options.assignment.folder)


@lru_cache(maxsize=8)
def plan(seed: int, assignment: Assignment) -> tuple[Check, ...]:
    """Every check of the assignment for a seed, in question order, then case order."""
    reference = assignment.reference
    checks = []
    all_cases = assignment.cases(seed)
    for question in assignment.questions:
        for case in all_cases:
            if question.only_case not in (None, case.id):
                continue
            args = question.args_for(case)
            checks.append(Check(question, case, args, question.expected(reference, args)))
    return tuple(checks)


def _stage(assignment: Assignment, question: Question, case: Case, memo: dict) -> int:
    """When a check may be asked: after every question whose answer its arguments hold."""
    key = (question.id, case.id)
    if key not in memo:
        revealed = question.reveals(case)
        memo[key] = 1 + max(_stage(assignment, assignment.question(q), case, memo) for q in revealed) \
            if revealed else 0
    return memo[key]


@lru_cache(maxsize=8)
def calls(seed: int, assignment: Assignment) -> tuple[sandbox.Call, ...]:
    """The sandbox calls of every check, built once per seed and reused for every submission:
    each check's call (its key is the check's index), then, after every question's calls, J of
    the student's own forward and cost around the worksheet's weights (where a wrong gradient
    goes wrong), then each check's call "given right answers" (see `given_keys`)."""
    memo: dict = {}
    checks = plan(seed, assignment)
    graded = tuple(sandbox.Call(key, check.question.names, check.args, check.question.id,
                                read=bool(check.question.constants),
                                stage=_stage(assignment, check.question, check.case, memo))
                   for key, check in enumerate(checks))
    last = 1 + max(c.stage for c in graded)
    extra: tuple[sandbox.Call, ...] = ()
    if assignment.own_gradient is not None:
        case = next(check.case for check in checks if check.case.id == assignment.own_gradient.case)
        extra = (own_gradient.call(len(checks), case, last, assignment.own_gradient),)
    given = tuple(_given_call(assignment, checks[index], index, key, last + 1)
                  for index, key in given_keys(seed, assignment).items())
    return graded + extra + given


def _given_call(assignment: Assignment, check: Check, index: int, key: int, stage: int) -> sandbox.Call:
    """The check's call again, given the model's answers to the graded calls it makes (see
    given_keys), with their fingerprints."""
    inner = carry.inner_calls(assignment, check.question.id, check.args)
    known = tuple(fingerprint(question, args, answer, np) for question, args, answer in inner)
    return sandbox.Call(key, check.question.names, check.args, check.question.id, stage=stage,
                        given=inner, given_for=index, known=known)


@lru_cache(maxsize=8)
def given_keys(seed: int, assignment: Assignment) -> dict[int, int]:
    """For each check whose model answer builds on graded functions, the key of its call
    "given right answers": the same call, made last, where the graded functions it uses answer
    with the model's answers. Credit carried forward from an earlier function is earned only
    where that call is right: the student's own maths, on what it builds on (never for a
    function that just calls the wrong one and then fails, or ignores what it gets)."""
    checks = plan(seed, assignment)
    first = len(checks) + (assignment.own_gradient is not None)
    needing = [index for index, check in enumerate(checks)
               if not check.question.constants and carry.inner_calls(assignment, check.question.id, check.args)]
    return {index: first + offset for offset, index in enumerate(needing)}


@lru_cache(maxsize=8)
def contract(assignment: Assignment) -> sandbox.Contract:
    """Every name a graded function may have, the stub's parameter names per question, and
    how the series' class answers questions."""
    reference = assignment.reference
    graded = tuple((name, q.id) for q in assignment.questions if not q.constants for name in q.names)
    params = tuple((q.id, tuple(inspect.signature(getattr(reference, q.id)).parameters))
                   for q in assignment.questions if not q.constants)
    series, own = assignment.series, assignment.own_gradient
    contract = sandbox.Contract(graded, params)
    if series is not None:
        contract = replace(contract, series_class=series.class_name, series_questions=series.questions,
                           series_adapter=series.adapter_source, series_modules=series.modules,
                           series_standin=series.standin)
    if own is not None:
        contract = replace(contract, own_cost=own.J, own_cost_arguments=own.arguments, own_cost_weights=own.weights)
    if assignment.one_number is not None:
        contract = replace(contract, one_number=assignment.one_number[0], one_number_inside=assignment.one_number[1])
    return contract


@lru_cache(maxsize=8)
def mistakes_by_question(catalogues: tuple[str, ...], assignment: Assignment
                         ) -> dict[str, tuple[catalogue.Mistake, ...]]:
    found: dict[str, list[catalogue.Mistake]] = {}
    for mistake in catalogue.load(tuple(Path(p) for p in catalogues), assignment):
        found.setdefault(mistake.question, []).append(mistake)
    return {question: tuple(items) for question, items in found.items()}


@lru_cache(maxsize=8)
def mistake_answers(seed: int, catalogues: tuple[str, ...], assignment: Assignment
                    ) -> tuple[tuple[Any, ...], ...]:
    """For each check, each catalogued mistake's answer on its arguments (or FAILED)."""
    by_question = mistakes_by_question(catalogues, assignment)
    checks = plan(seed, assignment)
    answers = tuple(
        tuple(catalogue.evaluate(m, assignment, check.args, check.expected)
              for m in by_question.get(check.question.id, ()))
        for check in checks
    )
    for question_id, mistakes in by_question.items():  # an entry that can never match is said, not skipped
        mine = [row for check, row in zip(checks, answers, strict=True) if check.question.id == question_id]
        for index, mistake in enumerate(mistakes):
            problem = catalogue.unusable(mistake, [row[index] for row in mine], assignment)
            if problem is not None:
                raise catalogue.CatalogueError(problem)
    return answers


# What runs a submission's cells and answers the calls: `sandbox.run`, or the in-process
# self-check's runner, which answers the same calls.
Runner = Callable[..., sandbox.RunResult]


def grade_submission(submission: Submission, options: Options, runner: Runner = sandbox.run) -> SubmissionResult:
    """Run the submission's cells in the sandbox and grade every question. `runner` is
    `sandbox.run` but for the in-process self-check, which answers the same calls. Raises
    SubmissionError for a .py file Python cannot compile (see `_refuse_if_uncompilable`)."""
    assignment = options.assignment
    try:
        run = _run(submission, options, runner)
    except sandbox.SandboxError as exc:
        _refuse_if_uncompilable(submission)
        return SubmissionResult(submission.student, submission.path, error=f"sandbox failure: {exc}",
                                error_kind=ErrorKind.SANDBOX, possible=assignment.max_score)
    if run.load_problems:
        _refuse_if_uncompilable(submission)
    grading = _Grading(submission, options, run)
    for question in assignment.questions:  # in order: an earlier question is judged first
        grading.judged[question.id] = _judge_question(grading, question)
    return _graded(grading)


def _run(submission: Submission, options: Options, runner: Runner) -> sandbox.RunResult:
    """The submission's run: its cells, then every call of the plan, confined (the answer key
    protected, the class's folders and its own hidden)."""
    confinement = sandbox.Confinement(
        protected=answer_key_paths(options),
        hidden=(*options.private_paths, str(Path(submission.path).resolve().parent)),
    )
    return runner(list(submission.cells), list(calls(options.seed, options.assignment)), options.limits,
                  confinement, submission.modules, replace(contract(options.assignment), seed=options.seed or 0))


def _refuse_if_uncompilable(submission: Submission) -> None:
    """A .py file Python cannot compile is not graded: SubmissionError, as for a file that
    can't be read. Its runner compiled it already, and one that can't compile has a problem
    loading: only then is it compiled here, so that a file that loads costs one compilation,
    in the sandbox, not a second one in the grader. (A notebook's cells are each their own:
    one that can't compile is reported, and the others run.)"""
    if not submission.notebook and len(submission.cells) == 1:
        check_compiles(submission.cells[0].source, submission.cells[0].filename)


def _where(submission: Submission, cell: int | None, line: int | None) -> str:
    """'line 12' in a .py file, 'cell 3, line 2' in a notebook (code cells counted from 1)."""
    where = f"line {line}" if line is not None else "top level"
    if not submission.notebook or cell is None:
        return where
    return f"cell {cell + 1}, {where}"


class _Grading:
    """One submission's grading as it goes, question by question: its run, how its cases are
    judged (with the verdicts so far), and what earlier questions found."""

    def __init__(self, submission: Submission, options: Options, run: sandbox.RunResult) -> None:
        assignment = options.assignment
        self.submission, self.options, self.run = submission, options, run
        self.checks = plan(options.seed, assignment)
        self.judged: dict[str, QuestionResult] = {}
        self.judging = verdict.Judging(assignment, self.checks, run.outcomes, given_keys(options.seed, assignment),
                                       self.judged, self.where, options.feedback, options.carry_forward)
        self.mistakes = mistakes_by_question(options.catalogues, assignment)
        self.mistake_answers = mistake_answers(options.seed, options.catalogues, assignment)
        self.replaced: list[absence.Absence] = []  # graded functions its top-level code replaced, so far
        self.published_only: list[str] = []  # questions right only where the answers are published

    def where(self, cell: int | None, line: int | None) -> str:
        return _where(self.submission, cell, line)

    def keys(self, question: Question) -> list[int]:
        """The keys (indices) of the question's checks, in case order."""
        return [key for key, check in enumerate(self.checks) if check.question is question]

    @cached_property
    def cells(self) -> absence.Cells:
        """The submission's cells as read to explain a missing function: once, when the first
        is found missing."""
        return absence.read([cell.source for cell in self.submission.cells])

    @cached_property
    def failures(self) -> tuple[absence.Failure, ...]:
        return tuple(absence.Failure(p.cell, p.line or 0, p.message) for p in self.run.load_problems)


def _judge_question(grading: _Grading, question: Question) -> QuestionResult:
    """The question's result: each case's verdict, the mistake they show or why the function
    is missing, and the one line of feedback."""
    keys = grading.keys(question)
    cases = tuple(verdict.judge(key, grading.judging) for key in keys)
    sized_for = verdict.sized_for(grading.options.assignment, cases, [grading.checks[k] for k in keys],
                                  [grading.run.outcomes[k] for k in keys])
    published = verdict.published_only(cases, [grading.checks[k] for k in keys],
                                       [grading.run.outcomes[k] for k in keys])
    if published:  # a lookup of the published answers would earn as much: nothing, and flagged
        cases = verdict.without_published_credit(cases)
        grading.published_only.append(question.id)
    found = _diagnosis(grading, question, cases, keys)
    absent = _absent(grading, question) if cases[0].status is Status.MISSING else None
    if absent is not None:  # each case says so too, not "not defined"
        said = "not a function when graded" if absent.reason == Reason.REPLACED else "not defined when graded"
        cases = tuple(replace(c, message=said) if c.status is Status.MISSING else c for c in cases)
    text = _feedback(grading, question, cases, keys, found, absent, sized_for, published)
    # Written but not there when graded is not unanswered: the class summary counts it as "other".
    unanswered = (all(c.status is Status.MISSING for c in cases) and absent is None) or all(
        c.status is Status.RAISED and c.error == "NotImplementedError" for c in cases)
    digest = _digest(grading, cases, keys) if found is None else None
    if grading.options.feedback == "score-only":
        text, cases = "", tuple(c.without_message() for c in cases)
    return QuestionResult(question, cases, text, Diagnosis(found.id, found.summary) if found else None,
                          answer_digest=digest, unanswered=unanswered)


def _diagnosis(grading: _Grading, question: Question, cases: tuple[CaseResult, ...],
               keys: list[int]) -> catalogue.Mistake | None:
    """The catalogued mistake a wrong answer matches (none for one carried forward)."""
    if any(c.carried_from for c in cases) or all(c.status is Status.PASSED for c in cases):
        return None
    evidence = [diagnose.Evidence(_student_value(grading.run.outcomes[k]), grading.checks[k].expected,
                                  grading.mistake_answers[k]) for k in keys]
    return diagnose.diagnose(question, grading.mistakes.get(question.id, ()), evidence)


def _student_value(outcome: sandbox.CallOutcome) -> Any:
    if outcome.status == "returned":
        return outcome.value
    return diagnose.RAISED if outcome.status == "raised" else diagnose.UNKNOWN


def _absent(grading: _Grading, question: Question) -> absence.Absence | None:
    """Why the question's function, which the student wrote, is not there when graded (see
    `absence`); one that top-level code replaced is remembered for the questions after."""
    series = grading.options.assignment.series
    absent = absence.explain(grading.cells, question.names, grading.failures, grading.where,
                             grading.submission.notebook, known_classes=(series.class_name,) if series else ())
    if absent is not None and absent.reason == Reason.REPLACED:
        grading.replaced.append(absent)
    return absent


def _feedback(grading: _Grading, question: Question, cases: tuple[CaseResult, ...], keys: list[int],
              found: catalogue.Mistake | None, absent: absence.Absence | None,
              sized_for: verdict.SizedFor | None = None, published: bool = False) -> str:
    """The question's line of feedback, from its cases and everything found about them."""
    assignment, run = grading.options.assignment, grading.run
    outcomes = [run.outcomes[k] for k in keys]
    missing = cases[0].status is Status.MISSING
    findings = feedback.Findings(
        diagnosis=found,
        near_miss=feedback.near_miss(assignment, question, run.defined) if missing else None,
        series_class=assignment.series is not None and assignment.series.class_name in run.defined,
        fragment=next((n for n in question.names if n in run.fragments), None) if missing else None,
        reordered=next((o.reordered for o in outcomes if o.reordered), None),
        sized_for=sized_for, published_only=published,
        absent=absent, replaced=tuple(grading.replaced))
    text = feedback.question_feedback(assignment, question, cases, findings)
    if found is None and any(c.status is not Status.PASSED and not c.carried_from for c in cases):
        said = wiring.note(assignment, question.id, [(grading.checks[k].args, run.outcomes[k]) for k in keys])
        text += f". {said}" if said else ""
    config = assignment.own_gradient
    if config and question.id == config.question and any(c.status is Status.WRONG for c in cases) \
            and not any(c.carried_from for c in cases):
        text += _own_gradient_note(config, run, grading.checks, keys, grading.judged)
    return text


def _own_gradient_note(config: OwnGradient, run: sandbox.RunResult, checks: tuple[Check, ...], keys: list[int],
                       judged: dict[str, QuestionResult]) -> str:
    """". Your gradient is not the gradient of your own cost...", or "" (see own_gradient)."""
    key = next((k for k in keys if checks[k].case.id == config.case), None)
    around = run.outcomes.get(len(checks))
    if key is None or around is None or around.status != "returned" \
            or run.outcomes[key].status != "returned":
        return ""
    W1, W2 = checks[key].case.values["W1"], checks[key].case.values["W2"]
    upstream = tuple(name for name in config.upstream
                     if name in judged and judged[name].score < judged[name].question.points)
    said = own_gradient.note(run.outcomes[key].value, around.value, W1, W2, upstream, config)
    return f". {said}" if said else ""


def _digest(grading: _Grading, cases: tuple[CaseResult, ...], keys: list[int]) -> str | None:
    """A wrong answer's digest (see `verdict.answer_digest`), for one that is wrong on its
    own (not carried forward, not a failure) on some case."""
    failing = [c for c in cases if c.status is not Status.PASSED]
    if not failing or not all(c.status is Status.WRONG and not c.carried_from for c in failing):
        return None
    return verdict.answer_digest([grading.run.outcomes[k].value for k in keys])


def _graded(grading: _Grading) -> SubmissionResult:
    submission, run, assignment = grading.submission, grading.run, grading.options.assignment
    load_errors = tuple(LoadError(grading.where(p.cell, p.line), p.message) for p in run.load_problems)
    output = run.output + ("\n[... output cut]" if run.output_chars > len(run.output) else "")
    notes = submission.notes + _run_notes(assignment, run, grading.checks, submission)
    return SubmissionResult(submission.student, submission.path, questions=tuple(grading.judged.values()),
                            load_errors=load_errors, output=output, notes=notes,
                            flags=run.flags + _published_flag(grading.published_only), missing_packages=run.missing,
                            possible=assignment.max_score)


def _published_flag(questions: list[str]) -> tuple[str, ...]:
    """For the instructor: questions that earned nothing, right only where the answers are
    published (see verdict.published_only): a lookup of them, or an answer sized for them."""
    if not questions:
        return ()
    return (f"right only where the answers are published (the worksheet's cases), wrong on every other: "
            f"{', '.join(questions)}",)


def _run_notes(assignment: Assignment, run: sandbox.RunResult, checks: tuple[Check, ...],
               submission: Submission) -> tuple[str, ...]:
    """What the grader provided or stood in for while the submission ran, one line each."""
    notes = []
    adapted = tuple(dict.fromkeys(checks[key].question.id for key, outcome in run.outcomes.items()
                                  if outcome.via == "class" and key < len(checks)))
    if adapted and assignment.series is not None:
        notes.append(f"graded the series' {assignment.series.class_name} class for {', '.join(adapted)}")
    notes += [f"{missing_message(package)} (only the code that uses it could not run)"
              for package in run.missing]
    if run.standins:
        notes.append(_standin_note(run.standins, submission, assignment))
    return tuple(notes)


def _standin_note(standins: tuple[str, ...], submission: Submission, assignment: Assignment) -> str:
    """What the series' modules not handed in held: its data, never the student's own earlier
    work (the assignment's series names it), which the submission uses without defining it
    (then: hand those modules in)."""
    modules = " and ".join(standins)
    series = assignment.series
    work, holds = (series.work, series.standin_holds) if series is not None else ((), "")
    lacking = absence.unbound([cell.source for cell in submission.cells], work)
    if not lacking:
        return f"{modules} not handed in: the grader provided the series' data ({holds})"
    files = " and ".join(f"{m}.py" for m in standins)
    return (f"{modules} not handed in: the grader's stand-in holds only the series' data ({holds}), "
            f"not your {' and '.join(lacking)}; hand in {files} with your "
            f"{'notebook' if submission.notebook else 'file'}")


def grade_path(path: Path, options: Options, student: str | None = None,
               folder: Path | None = None) -> SubmissionResult:
    """Grade one hand-in on disk; a file that can't be read or compiled gets status error.
    `folder` is the student's own folder, whose other .py files the hand-in may import."""
    try:
        return grade_submission(load(path, student, folder, options.assignment.check_modules), options)
    except SubmissionError as exc:
        return SubmissionResult(student or path.stem, str(path), error=str(exc),
                                error_kind=ErrorKind.SUBMISSION, possible=options.assignment.max_score)
