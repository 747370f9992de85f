"""`grade audit`: where an assignment's cases are weak, found before students find it.

The audit makes one-change variants (mutants) of the model answer, one graded function at a
time (`audit.mutation`), and asks of each: does grading notice?

1. **Set aside (equivalent).** A variant that agrees with the model answer, within each
   question's tolerance, on every case the assignment grades with and on the seeded cases of
   `EXTRA_SEEDS` more seeds (the assignment's own generator, `seeded_cases(seed, reference)`),
   for its function's question and every question whose function calls it, is a rewrite, not
   a mistake: no case could tell it apart. This is checked in the grader's process: a variant
   is the model answer with one expression changed, instructor-trusted code, as the model
   answer is (which the grader imports to compute every expected value).
2. **Killed or survived.** Every other variant is graded as a hand-in is, by the grader's own
   pipeline: a file, `batch.grade_all`, the sandbox, the judge. It is *killed* when its
   function's question is not right on every case (it loses points there; for a question of
   0 points, a case is not passed). A question built on the changed function does not count:
   with credit carried forward it keeps its points, as it should, and a student who got the
   function wrong must lose that function's points. A variant that is not killed *survived*:
   wrong, yet graded right; the report gives its changed line and a case that would catch it
   (the first seeded case of the extra seeds on which it differs from the model answer).

Then the catalogue: each entry, applied (its `answer` formula answering its question, the
model answer everything else), must be diagnosed as itself and as nothing else, and the model
answer itself graded full marks with no diagnosis. An entry is applied in the grader's process
(`selfcheck.notebook.in_process`, the runner `check()` grades with), because its formula is the
catalogue's: instructor-written code the grader evaluates for every diagnosis anyway (with
`expected`, `reference` and mistakes.py's helpers, which never enter a student's process).

`run` does it all and returns an `Audit`; `report` renders it. No click here: `grade audit` is
the command's adapter.
"""

from __future__ import annotations

import ast
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import numpy as np

from grader import sandbox
from grader.assignment import Assignment, Case, Question
from grader.audit.mutation import Mutant, kind_of, mutants
from grader.batch import grade_all
from grader.grading import Options, grade_submission, mistake_answers, mistakes_by_question
from grader.intake.discovery import Entry
from grader.intake.loading import Submission
from grader.judge import catalogue, compare
from grader.results import QuestionResult, Status, SubmissionResult
from grader.selfcheck.handout_runtime import plain
from grader.selfcheck.notebook import in_process

# How many more seeds of the assignment's seeded cases a variant is tried on.
EXTRA_SEEDS = 20
# Seconds a variant's call may take in the grader's process, trying whether it is equivalent:
# past them it is graded in the sandbox, whose limits end it.
CALL_SECONDS = 5.0

KILLED, SURVIVED, SET_ASIDE, NOT_GRADED = "killed", "survived", "set aside", "not graded"


@dataclass(frozen=True)
class Catch:
    """A case that tells a variant from the model answer: which question, on which seed's case."""

    question: str
    seed: int
    case: str  # the case's label: "random 2 (1 example, layers 3-2-2)"

    def __str__(self) -> str:
        return f"{self.question} on {self.case} of seed {self.seed}"


@dataclass(frozen=True)
class Outcome:
    """What became of one variant."""

    mutant: Mutant
    verdict: str  # KILLED, SURVIVED, SET_ASIDE or NOT_GRADED
    catch: Catch | None = None  # for one that survived
    lost: tuple[str, ...] = ()  # the questions it lost points on (or, of 0 points, a case)
    error: str = ""  # for one that could not be graded: why


@dataclass(frozen=True)
class EntryCheck:
    """One catalogue entry, applied to one question: what grading diagnosed."""

    id: str
    question: str
    diagnosed: tuple[tuple[str, str], ...]  # (question, entry id), every diagnosis made
    problem: str = ""  # "" when it was diagnosed as itself, on its question, and nothing else

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Audit:
    assignment: Assignment
    seed: int  # the grading seed: the cases the variants are graded on
    extra_seeds: tuple[int, ...]
    outcomes: tuple[Outcome, ...]
    entries: tuple[EntryCheck, ...]
    # What is wrong with grading the model answer itself (not full marks, a diagnosis), or "".
    model: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    every: int = 1  # one variant in so many of each function's was tried (see `sample`)

    def of(self, question: str, verdict: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.mutant.function == question and verdict in (None, o.verdict)]

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == SURVIVED]

    @property
    def passed(self) -> bool:
        """Nothing survived, every variant was graded, every entry is diagnosed as itself, and
        the model answer gets full marks with no diagnosis."""
        return not self.model and all(o.verdict in (KILLED, SET_ASIDE) for o in self.outcomes) \
            and all(e.ok for e in self.entries)


class AuditError(Exception):
    """The audit could not start: the assignment's cases or model answer fail; says why."""


# --- equivalence, in the grader's process ---------------------------------------------------

@dataclass(frozen=True)
class _Check:
    question: Question
    seed: int | None  # None: the assignment's own cases (the worksheet's and the grading seed's)
    case: Case
    args: tuple
    expected: Any


def _checks(assignment: Assignment, seed: int, extra: tuple[int, ...]) -> list[_Check]:
    """Every function question's call on the assignment's cases, then on each extra seed's."""
    reference = assignment.reference
    checks = []
    for case_seed, cases in [(None, assignment.cases(seed))] + [(s, assignment.seeded_cases(s)) for s in extra]:
        for case in cases:
            for question in assignment.questions:
                if question.constants or question.only_case not in (None, case.id):
                    continue
                args = question.args_for(case)
                with np.errstate(all="ignore"):
                    checks.append(_Check(question, case_seed, case, args, question.expected(reference, args)))
    return checks


def _callers(source: str, functions: list[str]) -> dict[str, set[str]]:
    """For each top-level function, the functions whose results depend on it: those that call
    it, directly or through another."""
    tree = ast.parse(source)
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    calls = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in defined}
             for name, node in defined.items()}
    callers: dict[str, set[str]] = {}
    for name in functions:
        found, frontier = set(), {name}
        while frontier:
            frontier = {f for f, called in calls.items() if called & frontier and f not in found} - {name}
            found |= frontier
        callers[name] = found
    return callers


def _namespace(source: str, filename: str) -> dict[str, Any]:
    """A variant's functions, in a module's namespace of their own (trusted: see the module)."""
    namespace: dict[str, Any] = {"__name__": "_audited_variant", "__builtins__": __builtins__}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        exec(compile(source, filename, "exec"), namespace)
    return namespace


class _TooLong(BaseException):
    """A variant's call ran past CALL_SECONDS (a BaseException: the variant's own `except
    Exception` does not swallow it)."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _TooLong in this (the main) thread after `seconds`: a variant whose loop no longer
    ends (`i += 1` made `i += 0`) is left to the sandbox, whose limits end it. Elsewhere than in
    the main thread, or without timers, no limit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(_signal: int, _frame: Any) -> None:
        raise _TooLong

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _answer(namespace: dict[str, Any], check: _Check) -> Any:
    """The variant's answer to a check, as the sandbox brings one back; raises as it raises
    (_TooLong past CALL_SECONDS)."""
    function = namespace[check.question.id]
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in check.args]
    with warnings.catch_warnings(), np.errstate(all="ignore"), _time_limit(CALL_SECONDS):
        warnings.simplefilter("ignore")
        return plain(function(*args), unsupported=sandbox.Unsupported)


def _differs(namespace: dict[str, Any], check: _Check, one_number: tuple[str, tuple[str, ...]] | None) -> bool:
    """The variant's answer is not the model's, as grading would call it: where the call raises
    and the assignment passes J on as one number inside it (`[one_number]`), again with that."""
    if not callable(namespace.get(check.question.id)):
        return True
    try:
        value = _answer(namespace, check)
    except _TooLong:
        return True
    except Exception:
        if one_number is None or check.question.id not in one_number[1] \
                or not callable(namespace.get(one_number[0])):
            return True
        own = namespace[one_number[0]]
        namespace[one_number[0]] = lambda *args: sandbox.one_number_total(own(*args))
        try:
            value = _answer(namespace, check)
        except (Exception, _TooLong):
            return True
        finally:
            namespace[one_number[0]] = own
    return not compare.agrees(check.question, value, check.expected)


def _first_difference(namespace: dict[str, Any], checks: list[_Check], questions: list[str],
                      one_number: tuple[str, tuple[str, ...]] | None) -> _Check | None:
    """The first check, question by question in `questions`' order, on which the variant's
    answer is not the model's."""
    for question in questions:
        for check in checks:
            if check.question.id == question and _differs(namespace, check, one_number):
                return check
    return None


# --- the catalogue, in the grader's process -------------------------------------------------

def _applied(mistake: catalogue.Mistake, assignment: Assignment) -> Callable[..., Any]:
    """The entry's formula as a student's function: the model answer's value on the same
    arguments is its `expected`; where the formula fails, the function raises."""
    model = getattr(assignment.reference, mistake.question)

    def answer(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            expected = model(*args)
        value = catalogue.evaluate(mistake, assignment, args, expected)
        if isinstance(value, catalogue.Failed):
            raise ValueError(f"{mistake.id}'s formula fails on these arguments")
        return value

    answer.__name__ = mistake.question
    return answer


def _check_entry(mistake: catalogue.Mistake, options: Options, source: str) -> EntryCheck:
    assignment = options.assignment
    namespace = _namespace(source, str(assignment.model_answer_path))
    question = assignment.question(mistake.question)
    if question.constants:
        expected = question.expected(assignment.reference, ())
        value = catalogue.evaluate(mistake, assignment, (), expected)
        if not isinstance(value, (list, tuple)) or len(value) != len(question.constants):
            return EntryCheck(mistake.id, mistake.question, (), "its formula does not give one value per constant "
                                                                f"({', '.join(question.constants)})")
        namespace.update(zip(question.constants, value, strict=True))
    else:
        namespace[mistake.question] = _applied(mistake, assignment)
    result = grade_submission(Submission(mistake.id, f"<{mistake.id}>", ()), options, runner=in_process(namespace))
    diagnosed = tuple((q.question.id, q.diagnosis.id) for q in result.questions if q.diagnosis)
    return EntryCheck(mistake.id, mistake.question, diagnosed, _entry_problem(mistake, result, diagnosed))


def _entry_problem(mistake: catalogue.Mistake, result: SubmissionResult, diagnosed: tuple[tuple[str, str], ...]) -> str:
    own = next(q for q in result.questions if q.question.id == mistake.question)
    problems = []
    said = dict(diagnosed)
    if mistake.question not in said:
        if all(c.status is Status.PASSED for c in own.cases):
            problems.append("not diagnosed: it agrees with the model answer on every case")
        else:
            problems.append("not diagnosed")
    elif said[mistake.question] != mistake.id:
        problems.append(f"diagnosed as {said[mistake.question]}, which takes its diagnosis")
    others = [f"{question} as {entry}" for question, entry in diagnosed if question != mistake.question]
    if others:
        problems.append(f"also diagnosed on {', '.join(others)}")
    return "; ".join(problems)


# --- grading the variants -------------------------------------------------------------------

def _short(question: QuestionResult) -> bool:
    """The question is not right on every case: it lost points (or, worth 0, a case)."""
    return question.score < question.question.points or any(
        c.status is not Status.PASSED or c.carried_from for c in question.cases)


def _graded(options: Options, sources: list[tuple[str, str]], jobs: int,
            on_graded: Callable[[int, int], None] | None) -> dict[str, SubmissionResult]:
    """Each (name, source) written as a hand-in and graded by the batch's machinery."""
    with tempfile.TemporaryDirectory(prefix="grade-audit-") as folder:
        entries = []
        for name, source in sources:
            path = Path(folder) / name / f"{options.assignment.handin}.py"
            path.parent.mkdir()
            path.write_text(source, encoding="utf-8")
            entries.append(Entry(name, path, folder=path.parent))
        options = replace(options, private_paths=(*options.private_paths, folder))
        results = {}
        for graded in grade_all(entries, options, jobs=jobs):
            results[graded.result.student] = graded.result
            if on_graded is not None:
                on_graded(len(results), len(entries))
        return results


def _model_problem(result: SubmissionResult | None) -> str:
    if result is None:
        return "the model answer was not graded"
    if result.error:
        return f"the model answer could not be graded: {result.error}"
    short = [q.question.id for q in result.questions if _short(q)]
    diagnosed = [f"{q.question.id} as {q.diagnosis.id}" for q in result.questions if q.diagnosis]
    problems = ([f"the model answer is not right on every case of {', '.join(short)}"] if short else []) + \
        ([f"the model answer is diagnosed: {', '.join(diagnosed)}"] if diagnosed else [])
    return "; ".join(problems)


def _locals_at_return(function: Callable[..., Any], args: tuple) -> dict[str, Any]:
    """The function's parameters and variables as it returns, run on `args` (trusted: the
    model answer)."""
    code: CodeType = function.__code__
    seen: dict[str, Any] = {}

    def local(frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "return" and frame.f_code is code:
            seen.update(frame.f_locals)
        return local

    def calls(frame: FrameType, _event: str, _arg: Any) -> Any:
        return local if frame.f_code is code else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        with np.errstate(all="ignore"):
            function(*args)
    finally:
        sys.settrace(previous)
    return seen


def _kinds(assignment: Assignment, functions: tuple[str, ...]) -> dict[str, dict[str, Hashable]]:
    """What each name of each function holds (`mutation.kind_of`) when the model answer runs it
    on the first case its question is asked on: its parameters, and its variables as the
    function returns."""
    cases = assignment.cases()
    kinds: dict[str, dict[str, Hashable]] = {}
    for name in functions:
        question = assignment.question(name)
        function = getattr(assignment.reference, name)
        case = next((c for c in cases if question.only_case in (None, c.id)), None)
        if case is None or not hasattr(function, "__code__"):
            continue
        try:
            seen = _locals_at_return(function, question.args_for(case))
        except Exception:
            continue
        kinds[name] = {variable: kind_of(value) for variable, value in seen.items()}
    return kinds


def variants(assignment: Assignment, questions: tuple[str, ...] | None = None) -> list[Mutant]:
    """The model answer's one-change variants, of every function question (or those named)."""
    source = assignment.model_answer_path.read_text(encoding="utf-8")
    functions = tuple(q.id for q in assignment.questions if not q.constants
                      and (questions is None or q.id in questions))
    return list(mutants(source, functions, _kinds(assignment, functions)))


def sample(found: list[Mutant], every: int) -> list[Mutant]:
    """One variant in `every` of each function's made by each operator, in order from the first
    (so that every kind of change to every function is still tried): a quicker look."""
    counted: dict[tuple[str, str], int] = {}
    kept = []
    for mutant in found:
        key = (mutant.function, mutant.operator)
        index = counted[key] = counted.get(key, -1) + 1
        if index % every == 0:
            kept.append(mutant)
    return kept


def run(assignment: Assignment, *, seed: int | None = None, jobs: int = 1, extra_seeds: int = EXTRA_SEEDS,
        limits: sandbox.Limits | None = None, questions: tuple[str, ...] | None = None, every: int = 1,
        say: Callable[[str], None] | None = None,
        on_graded: Callable[[int, int], None] | None = None) -> Audit:
    """The whole audit of an assignment (see the module): `questions` limits the variants to
    those functions', `every` to one in so many of each function's (the catalogue is checked
    whole either way); `say` hears what it is doing, `on_graded` each variant graded."""
    say = say or (lambda _: None)
    seed = assignment.default_seed if seed is None else seed
    options = Options(assignment, seed=seed, limits=limits or sandbox.Limits())
    extra = tuple(range(seed + 1, seed + 1 + extra_seeds))
    seconds: dict[str, float] = {}
    started = time.monotonic()
    source = assignment.model_answer_path.read_text(encoding="utf-8")
    try:
        checks = _checks(assignment, seed, extra)
    except Exception as exc:  # the author's cases.py or model answer failing on its own cases
        raise AuditError(f"{assignment.folder}: computing its cases and expected answers failed: "
                         f"{type(exc).__name__}: {exc}") from None
    try:  # an unusable catalogue is one line now, not an internal error on every variant
        mistakes = [m for ms in mistakes_by_question(options.catalogues, assignment).values() for m in ms]
        mistake_answers(seed, options.catalogues, assignment)
    except catalogue.CatalogueError as exc:
        raise AuditError(str(exc)) from None
    found = sample(variants(assignment, questions), every)
    callers = _callers(source, [m.function for m in found])
    say(f"{len(found)} variants of the model answer{f' (one in {every})' if every > 1 else ''}; trying each on "
        f"{len(extra)} more seeds")
    own = [c for c in checks if c.seed is None]
    extra_checks = [c for c in checks if c.seed is not None]
    undecided: list[Mutant] = []
    outcomes: dict[int, Outcome] = {}
    for index, mutant in enumerate(found):
        namespace = _namespace_or_none(mutant)
        if namespace is None:
            undecided.append(mutant)
            continue
        order = [mutant.function, *sorted(callers[mutant.function])]
        if _first_difference(namespace, own + extra_checks, order, assignment.one_number) is None:
            outcomes[index] = Outcome(mutant, SET_ASIDE)
        else:
            undecided.append(mutant)
    seconds["variants and equivalence"] = time.monotonic() - started

    started = time.monotonic()
    names = {id(m): f"variant{number:04d}" for number, m in enumerate(undecided, start=1)}
    say(f"grading {len(undecided)} variants and the model answer")
    results = _graded(options, [("model", source)] + [(names[id(m)], m.source) for m in undecided], jobs, on_graded)
    seconds["grading"] = time.monotonic() - started
    started = time.monotonic()
    for index, mutant in enumerate(found):
        if index in outcomes:
            continue
        outcomes[index] = _outcome(mutant, results.get(names[id(mutant)]), extra_checks, callers,
                                   assignment.one_number)
    seconds["catches"] = time.monotonic() - started

    started = time.monotonic()
    say(f"applying {len(mistakes)} catalogue entries")
    entries = tuple(_check_entry(m, options, source) for m in mistakes)
    seconds["catalogue"] = time.monotonic() - started
    return Audit(assignment, seed, extra, tuple(outcomes[i] for i in range(len(found))), entries,
                 _model_problem(results.get("model")), seconds, every)


def _namespace_or_none(mutant: Mutant) -> dict[str, Any] | None:
    try:
        return _namespace(mutant.source, "<variant>")
    except Exception:  # a variant whose top level fails: grading says so
        return None


def _outcome(mutant: Mutant, result: SubmissionResult | None, extra_checks: list[_Check],
             callers: dict[str, set[str]], one_number: tuple[str, tuple[str, ...]] | None) -> Outcome:
    if result is None:
        return Outcome(mutant, NOT_GRADED, error="no result")
    if result.error:
        return Outcome(mutant, NOT_GRADED, error=result.error)
    lost = tuple(q.question.id for q in result.questions if _short(q))
    if mutant.function in lost:
        return Outcome(mutant, KILLED, lost=lost)
    namespace = _namespace_or_none(mutant)
    difference = None if namespace is None else \
        _first_difference(namespace, extra_checks, [mutant.function, *sorted(callers[mutant.function])], one_number)
    catch = None if difference is None or difference.seed is None else \
        Catch(difference.question.id, difference.seed, difference.case.label)
    return Outcome(mutant, SURVIVED, catch=catch, lost=lost)


def by_question(audit: Audit) -> Iterator[tuple[Question, dict[str, list[Outcome]]]]:
    """Each function question, with its variants by verdict."""
    for question in audit.assignment.questions:
        if question.constants:
            continue
        yield question, {verdict: audit.of(question.id, verdict) for verdict in (KILLED, SURVIVED, SET_ASIDE,
                                                                                   NOT_GRADED)}
