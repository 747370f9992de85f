"""Orchestration: a submission's cells in, a SubmissionResult out.

The expected values are computed once per seed by calling the reference (the model answer), in
this process; the student's functions are called in the sandbox on the same arguments, once;
the verdicts, the diagnoses and any credit carried forward are decided here, from that one run.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from grader.judge import absence, carry, catalogue, compare, diagnose, feedback, own_gradient
from grader import assignment, sandbox
from grader.sandbox import missing_message
from grader.sandbox.child.protocol import fingerprint
from grader.assignment import Assignment, Case, Question
from grader.intake.loading import Submission, SubmissionError, check_compiles, load
from grader.results import (CaseResult, Diagnosis, LoadError, QuestionResult, Status,
                            SubmissionResult)

# How much of the grading a student sees: everything; expected values (and shapes) only on
# the cases whose answers are published (the worksheet's own, in the notes, the key and the
# self-check file), never on the seeded ones, so that resubmitting can't harvest them (what
# the autograders show by default); no expected value at all; or the scores alone.
FEEDBACK_LEVELS = ("full", "published", "no-expected", "score-only")
# An answer right on the worksheet's numbers and off by more than this (relative to the
# answer's scale) on the others is probably hard-coded; less is rounding.
_GROSSLY_WRONG = 1e-2


@dataclass(frozen=True)
class Options:
    """Everything that changes a grade, travelling as one value: the assignment first."""

    assignment: Assignment = field(default_factory=assignment.default)
    seed: int | None = None  # None: the assignment's default seed
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    # Folders a submission must not read (the class folders being graded); each submission's
    # own folder is added.
    private_paths: tuple[str, ...] = ()
    carry_forward: bool = True  # credit an answer that is right given the student's own earlier functions
    # The catalogue files of known mistakes; None: the assignment's own.
    catalogues: tuple[str, ...] | None = None
    feedback: str = "full"  # one of FEEDBACK_LEVELS

    def __post_init__(self):
        if self.seed is None:
            object.__setattr__(self, "seed", self.assignment.default_seed)
        if self.catalogues is None:
            object.__setattr__(self, "catalogues", (str(self.assignment.catalogue_path),))


def answer_key_paths(options: Options | None = None) -> tuple[str, ...]:
    """Every copy of the grader's package and the model answer, and the catalogues in use:
    hidden from the sandbox, blocked and flagged."""
    from grader.sandbox import key_copies as copies

    if options is None:
        return copies.answer_key_copies()
    return copies.answer_key_copies(options.catalogues, options.assignment.folder)


@dataclass(frozen=True)
class Check:
    """One question on one case: the call to make and the reference's answer to it."""

    question: Question
    case: Case
    args: tuple
    expected: Any

    @cached_property
    def target(self) -> compare.Target:
        return compare.Target(self.question, self.expected)


@lru_cache(maxsize=8)
def plan(seed: int, work: Assignment | None = None) -> tuple[Check, ...]:
    """Every check of the assignment for a seed, in question order, then case order."""
    work = work or assignment.default()
    reference = work.reference
    checks = []
    all_cases = work.cases(seed)
    for question in work.questions:
        for case in all_cases:
            if question.only_case not in (None, case.id):
                continue
            args = question.args_for(case)
            checks.append(Check(question, case, args, question.expected(reference, args)))
    return tuple(checks)


def _stage(work: Assignment, question: Question, case: Case, memo: dict) -> int:
    """When a check may be asked: after every question whose answer its arguments hold."""
    key = (question.id, case.id)
    if key not in memo:
        revealed = question.reveals(case)
        memo[key] = 1 + max(_stage(work, work.question(q), case, memo) for q in revealed) \
            if revealed else 0
    return memo[key]


@lru_cache(maxsize=8)
def calls(seed: int, work: Assignment | None = None) -> tuple[sandbox.Call, ...]:
    """The sandbox calls of every check, built once per seed and reused for every submission:
    each check's call (its key is the check's index), then, after every question's calls, J of
    the student's own forward and cost around the worksheet's weights (where a wrong gradient
    goes wrong), then each check's call "given right answers" (see `given_keys`)."""
    work = work or assignment.default()
    memo: dict = {}
    checks = plan(seed, work)
    graded = tuple(sandbox.Call(key, check.question.names, check.args, check.question.id,
                                read=bool(check.question.constants),
                                stage=_stage(work, check.question, check.case, memo))
                   for key, check in enumerate(checks))
    last = 1 + max(c.stage for c in graded)
    extra: tuple[sandbox.Call, ...] = ()
    if work.own_gradient is not None:
        case = next(check.case for check in checks if check.case.id == work.own_gradient.case)
        extra = (own_gradient.call(len(checks), case, last, work.own_gradient),)
    given = tuple(_given_call(work, checks[index], index, key, last + 1)
                  for index, key in given_keys(seed, work).items())
    return graded + extra + given


def _given_call(work: Assignment, check: Check, index: int, key: int, stage: int) -> sandbox.Call:
    """The check's call again, given the model's answers to the graded calls it makes (see
    given_keys), with their fingerprints."""
    inner = carry.inner_calls(work, check.question.id, check.args)
    known = tuple(fingerprint(question, args, answer, np) for question, args, answer in inner)
    return sandbox.Call(key, check.question.names, check.args, check.question.id, stage=stage,
                        given=inner, given_for=index, known=known)


@lru_cache(maxsize=8)
def given_keys(seed: int, work: Assignment | None = None) -> dict[int, int]:
    """For each check whose model answer builds on graded functions, the key of its call
    "given right answers": the same call, made last, where the graded functions it uses answer
    with the model's answers. Credit carried forward from an earlier function is earned only
    where that call is right: the student's own maths, on what it builds on (never for a
    function that just calls the wrong one and then fails, or ignores what it gets)."""
    work = work or assignment.default()
    checks = plan(seed, work)
    first = len(checks) + (work.own_gradient is not None)
    needing = [index for index, check in enumerate(checks)
               if not check.question.constants and carry.inner_calls(work, check.question.id, check.args)]
    return {index: first + offset for offset, index in enumerate(needing)}


@lru_cache(maxsize=8)
def contract(work: Assignment | None = None) -> sandbox.Contract:
    """Every name a graded function may have, the stub's parameter names per question, and
    how the series' class answers questions."""
    work = work or assignment.default()
    reference = work.reference
    graded = tuple((name, q.id) for q in work.questions if not q.constants for name in q.names)
    params = tuple((q.id, tuple(inspect.signature(getattr(reference, q.id)).parameters))
                   for q in work.questions if not q.constants)
    series, own = work.series, work.own_gradient
    contract = sandbox.Contract(graded, params)
    if series is not None:
        contract = replace(contract, series_class=series.class_name, series_questions=series.questions,
                           series_adapter=series.adapter_source, series_modules=series.modules,
                           series_standin=series.standin)
    if own is not None:
        contract = replace(contract, own_cost=own.J, own_cost_arguments=own.arguments, own_cost_weights=own.weights)
    return contract


@lru_cache(maxsize=8)
def mistakes_by_question(catalogues: tuple[str, ...], work: Assignment | None = None
                         ) -> dict[str, tuple[catalogue.Mistake, ...]]:
    found: dict[str, list[catalogue.Mistake]] = {}
    for mistake in catalogue.load(tuple(Path(p) for p in catalogues), work or assignment.default()):
        found.setdefault(mistake.question, []).append(mistake)
    return {question: tuple(items) for question, items in found.items()}


@lru_cache(maxsize=8)
def mistake_answers(seed: int, catalogues: tuple[str, ...], work: Assignment | None = None
                    ) -> tuple[tuple[Any, ...], ...]:
    """For each check, each catalogued mistake's answer on its arguments (or FAILED)."""
    work = work or assignment.default()
    by_question = mistakes_by_question(catalogues, work)
    return tuple(
        tuple(catalogue.evaluate(m, work, check.args, check.expected)
              for m in by_question.get(check.question.id, ()))
        for check in plan(seed, work)
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


def _plain_result(submission: Submission, check: Check, outcome: sandbox.CallOutcome,
                  reveal: bool) -> CaseResult:
    """The case's verdict on its own: right, wrong (with why), or how it failed."""
    case = check.case
    if outcome.status == "returned" and outcome.precision is None and check.target.right(outcome.value):
        return CaseResult(case.id, case.label, Status.PASSED, worksheet=case.worksheet)
    if outcome.status == "returned":
        message = compare.compare(check.question, outcome.value, check.expected,
                                  precision=outcome.precision, reveal=reveal)
        status = Status.PASSED if message is None else Status.WRONG
        return CaseResult(case.id, case.label, status, message or "", worksheet=case.worksheet,
                          precision=outcome.precision)
    message = outcome.message
    if outcome.status == "crashed":
        message = f"the function {message}" if message.startswith(("was killed", "ended")) else message
    if outcome.status == "raised" and outcome.line is not None:
        message = f"{message} ({_where(submission, outcome.cell, outcome.line)})"
    return CaseResult(case.id, case.label, _OUTCOME_STATUS[outcome.status], message,
                      worksheet=case.worksheet)


def _roots(work: Assignment, node: sandbox.Traced, judged: dict[str, QuestionResult]) -> list[str]:
    """The first wrong functions behind a wrong recorded answer: the function itself when its
    own question shows its code is wrong, else whatever it built on."""
    own = judged.get(node.function)
    if own is None or any(c.status is not Status.PASSED and not c.carried_from for c in own.cases):
        return [node.function]
    inner = [root for child in carry.wrong_calls(work, node)
             for root in _roots(work, child, judged)]
    carried = [name for c in own.cases for name in c.carried_from]
    return inner or carried or [node.function]


@dataclass(frozen=True)
class Judging:
    """What a submission's run said, as the judging of each case needs it: every call's
    outcome by key, which checks were asked again "given right answers" (see `given_keys`),
    and the verdicts so far, by question."""

    checks: tuple[Check, ...]
    outcomes: dict[int, sandbox.CallOutcome]
    given: dict[int, int]
    judged: dict[str, QuestionResult]

    def standalone(self, node: sandbox.Traced) -> sandbox.CallOutcome | None:
        """The student's own answer to the graded call a trace recorded, where one of its
        question's checks made that very call on its own."""
        if node.args is None:
            return None
        for key, check in enumerate(self.checks):
            if check.question.id == node.function and carry.same_args(check.args, node.args):
                return self.outcomes.get(key)
        return None

    def right_on_its_own(self, question_id: str) -> bool:
        own = self.judged.get(question_id)
        return own is not None and all(c.status is Status.PASSED and not c.carried_from for c in own.cases)


def _consistent(work: Assignment, node: sandbox.Traced, alone: sandbox.CallOutcome) -> bool:
    """A recorded call gave what the same call made on its own gave: the same answer, or the
    same kind of failure."""
    if node.status == "raised":
        return alone.status == "raised" and (node.error is None or alone.error in (None, node.error))
    return alone.status == "returned" and compare.agrees(work.question(node.function), node.value, alone.value)


def _earned(run: Judging, work: Assignment, index: int, wrong: tuple[sandbox.Traced, ...]) -> str | None:
    """Why credit can't be carried from these wrong recorded answers to check `index` (None:
    it can). A function right on its own question carries nothing, nor one that answered
    otherwise inside than when called on its own with the same arguments (a flag set by its
    caller); and the student's function must be right when what it builds on answers right
    (its call "given right answers"): calling the wrong function and then failing, or ignoring
    what it gave, is no maths."""
    for node in wrong:
        if run.right_on_its_own(node.function):
            return f"your {node.function} is right on its own question: what went wrong here is not its doing"
        alone = run.standalone(node)
        if alone is not None and not _consistent(work, node, alone):
            return (f"your {node.function} answered otherwise here than when called on its own with "
                    f"the same arguments")
    check = run.checks[index]
    given = run.outcomes.get(run.given.get(index, -1))
    names = " and ".join(dict.fromkeys(node.function for node in wrong))
    if given is None or given.status in ("timeout", "crashed", "missing", "skipped"):
        return f"it could not be tried with a right {names}"
    if given.status != "returned":  # not what it said: its words could quote a right answer
        return f"with a right {names} it still fails"
    if given.precision is not None or not check.target.right(given.value):
        return f"with a right {names} its answer is still wrong"
    return None


def _judge(submission: Submission, index: int, run: Judging, options: Options) -> CaseResult:
    """The case's verdict, carrying an earlier function's error forward where the answer (or
    the failure) is the model answer's, built on what the student's own functions gave, and
    the function is right where what it builds on is."""
    check, outcome, judged = run.checks[index], run.outcomes[index], run.judged
    reveal = options.feedback == "full" or (options.feedback == "published" and check.case.worksheet)
    plain = _plain_result(submission, check, outcome, reveal)
    if plain.status is Status.PASSED or outcome.status not in ("returned", "raised") \
            or not outcome.used:
        return plain
    work = options.assignment
    replayed = carry.replay(work, check.question.id, check.args, outcome.used)
    if not replayed.wrong:
        return plain  # nothing it built on was wrong: the error is its own
    roots = tuple(dict.fromkeys(root for node in replayed.wrong
                                for root in _roots(work, node, judged)))
    roots = tuple(r for r in roots if r != check.question.id) or roots
    credit = Status.PASSED if options.carry_forward else plain.status
    if outcome.status == "raised":
        # It failed only because what it was given by its own earlier function broke the
        # formula (a wrong shape in a product), or that function raised.
        if not replayed.raised:
            return plain
        refused = _earned(run, work, index, replayed.wrong)
        if refused is not None:
            return replace(plain, message=f"{plain.message}; {refused}")
        # Not where it broke (a line of a correct function), but what it was given.
        message = (f"{outcome.message}, only because your {' and '.join(roots)} gave a wrong "
                   f"answer on this case")
        return CaseResult(plain.case_id, plain.case_label, credit, message, roots,
                          plain.worksheet, carried_kind="crash")
    if replayed.raised or not carry.finite(replayed.value) or not compare.agrees(
            check.question, outcome.value, replayed.value, precision=outcome.precision):
        return plain
    if carry.trivial(replayed.value, check.expected):
        return CaseResult(plain.case_id, plain.case_label, plain.status, plain.message, roots,
                          plain.worksheet, carried_kind="trivial", precision=outcome.precision)
    refused = _earned(run, work, index, replayed.wrong)
    if refused is not None:
        return replace(plain, message=f"{plain.message}; {refused}")
    return CaseResult(plain.case_id, plain.case_label, credit, plain.message, roots,
                      plain.worksheet, carried_kind="value", precision=outcome.precision)


def _hard_coded(question: Question, cases: tuple[CaseResult, ...], checks: list[Check],
                outcomes: list[sandbox.CallOutcome]) -> bool:
    """Right on the worksheet's numbers, and grossly wrong (not off by rounding) on the others."""
    worksheet = [c for c in cases if c.worksheet]
    failing = [(c, check, outcome) for c, check, outcome in zip(cases, checks, outcomes)
               if c.status is not Status.PASSED]
    return bool(worksheet and failing) and all(c.status is Status.PASSED for c in worksheet) and all(
        c.status is Status.WRONG and outcome.status == "returned"
        and compare.error_size(question, outcome.value, check.expected) > _GROSSLY_WRONG
        for c, check, outcome in failing)


def answer_digest(values: list[Any]) -> str:
    """A short fingerprint of a question's answers on every case, to 6 significant digits:
    students with the same digest gave the same answer."""
    def canonical(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ",".join(canonical(v) for v in value) + "]"
        array = compare.as_array(value)
        if array is None:
            return repr(value)[:200]
        return f"{array.shape}:" + ",".join(f"{x:.6g}" for x in array.ravel())

    return hashlib.sha256("|".join(canonical(v) for v in values).encode()).hexdigest()[:16]


def grade_submission(submission: Submission, options: Options = Options(),
                     runner=sandbox.run) -> SubmissionResult:
    """Run the submission's cells in the sandbox and grade every question. `runner` is
    `sandbox.run` but for the in-process self-check, which answers the same calls. Raises
    SubmissionError for a .py file Python cannot compile (see `_refuse_if_uncompilable`)."""
    work = options.assignment
    checks = plan(options.seed, work)
    confinement = sandbox.Confinement(
        protected=answer_key_paths(options),
        hidden=(*options.private_paths, str(Path(submission.path).resolve().parent)),
    )
    try:
        run = runner(list(submission.cells), list(calls(options.seed, work)), options.limits, confinement,
                     submission.modules, contract(work))
    except sandbox.SandboxError as exc:
        _refuse_if_uncompilable(submission)
        return SubmissionResult(submission.student, submission.path, error=f"sandbox failure: {exc}",
                                possible=work.max_score)
    if run.load_problems:
        _refuse_if_uncompilable(submission)

    series_class = work.series is not None and work.series.class_name in run.defined
    notes = submission.notes + _run_notes(work, run, checks, submission)
    answers = mistake_answers(options.seed, options.catalogues, work)
    mistakes = mistakes_by_question(options.catalogues, work)
    judged: dict[str, QuestionResult] = {}
    verdicts = Judging(checks, run.outcomes, given_keys(options.seed, work), judged)
    cells = None  # the cells read, once a function is found missing
    replaced: list[absence.Absence] = []  # graded functions the student's code replaced
    failures = [absence.Failure(p.cell, p.line or 0, p.message) for p in run.load_problems]
    for question in work.questions:  # in order: an earlier question is judged first
        keys = [key for key, check in enumerate(checks) if check.question is question]
        outcomes = [run.outcomes[k] for k in keys]
        cases = tuple(_judge(submission, k, verdicts, options) for k in keys)
        found = None
        if not any(c.carried_from for c in cases) and \
                any(c.status is not Status.PASSED for c in cases):
            evidence = [diagnose.Evidence(_student_value(run.outcomes[k]), checks[k].expected,
                                          answers[k]) for k in keys]
            found = diagnose.diagnose(question, mistakes.get(question.id, ()), evidence)
        near = fragment = absent = None
        if cases[0].status is Status.MISSING:
            near = feedback.near_miss(work, question, run.defined)
            fragment = next((n for n in question.names if n in run.fragments), None)
            cells = absence.read([cell.source for cell in submission.cells]) if cells is None else cells
            absent = absence.explain(cells, question.names, failures,
                                     lambda cell, line: _where(submission, cell, line), submission.notebook,
                                     known_classes=(work.series.class_name,) if work.series else ())
            replaced += [absent] if absent is not None and absent.reason == absence.REPLACED else []
            if absent is not None:  # each case says so too, not "not defined"
                said = "not a function when graded" if absent.reason == absence.REPLACED else "not defined when graded"
                cases = tuple(replace(c, message=said) if c.status is Status.MISSING else c for c in cases)
        reordered = next((o.reordered for o in outcomes if o.reordered), None)
        text = feedback.question_feedback(
            work, question, cases, diagnosis=found, near_miss=near, series_class=series_class,
            fragment=fragment, reordered=reordered, absent=absent, replaced=tuple(replaced),
            hard_coded=_hard_coded(question, cases, [checks[k] for k in keys], outcomes))
        if work.own_gradient and question.id == work.own_gradient.question \
                and any(c.status is Status.WRONG for c in cases) and not any(c.carried_from for c in cases):
            text += _own_gradient_note(work.own_gradient, run, checks, keys, judged)
        # Written but not there when graded is not unanswered: the class summary counts it as "other".
        unanswered = (all(c.status is Status.MISSING for c in cases) and absent is None) or all(
            c.status is Status.RAISED and c.message.startswith("NotImplementedError") for c in cases)
        if options.feedback == "score-only":
            text, cases = "", tuple(c.without_message() for c in cases)
        digest = None
        if found is None and all(c.status is Status.WRONG and not c.carried_from for c in cases
                                 if c.status is not Status.PASSED) \
                and any(c.status is Status.WRONG for c in cases):
            digest = answer_digest([o.value for o in outcomes])
        judged[question.id] = QuestionResult(question, cases, text,
                                             Diagnosis(found.id, found.summary) if found else None,
                                             answer_digest=digest, unanswered=unanswered)
    load_errors = tuple(LoadError(_where(submission, p.cell, p.line), p.message)
                        for p in run.load_problems)
    output = run.output + ("\n[... output cut]" if run.output_chars > len(run.output) else "")
    return SubmissionResult(submission.student, submission.path, questions=tuple(judged.values()),
                            load_errors=load_errors, output=output, notes=notes,
                            flags=run.flags, missing_packages=run.missing, possible=work.max_score)


def _refuse_if_uncompilable(submission: Submission) -> None:
    """A .py file Python cannot compile is not graded: SubmissionError, as for a file that
    can't be read. Its runner compiled it already, and one that can't compile has a problem
    loading: only then is it compiled here, so that a file that loads costs one compilation,
    in the sandbox, not a second one in the grader. (A notebook's cells are each their own:
    one that can't compile is reported, and the others run.)"""
    if not submission.notebook and len(submission.cells) == 1:
        check_compiles(submission.cells[0].source, submission.cells[0].filename)


def _own_gradient_note(config: assignment.OwnGradient, run: sandbox.RunResult,
                       checks: tuple[Check, ...], keys: list[int], judged: dict[str, QuestionResult]) -> str:
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


def _run_notes(work: Assignment, run: sandbox.RunResult, checks: tuple[Check, ...],
               submission: Submission) -> tuple[str, ...]:
    """What the grader provided or stood in for while the submission ran, one line each."""
    notes = []
    adapted = tuple(dict.fromkeys(checks[key].question.id for key, outcome in run.outcomes.items()
                                  if outcome.via == "class" and key < len(checks)))
    if adapted:
        notes.append(f"graded the series' {work.series.class_name} class for {', '.join(adapted)}")
    notes += [f"{missing_message(package)} (only the code that uses it could not run)"
              for package in run.missing]
    if run.standins:
        modules = " and ".join(run.standins)
        texts = [p.message for p in run.load_problems] + [o.message for o in run.outcomes.values()]
        lacking = [name for name in (work.series.work if work.series else ())
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
        return grade_submission(load(path, student, folder, options.assignment.check_modules), options)
    except SubmissionError as exc:
        return SubmissionResult(student or path.stem, str(path), error=str(exc),
                                possible=options.assignment.max_score)
