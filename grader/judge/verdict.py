"""Pure verdicts on the answers of one run: each case's (right, wrong and why, or how the call
failed), with any credit carried forward from the student's own earlier functions (see
`carry`); and, over a question's cases, whether its answer is sized for one of the
worksheet's sizes (see `sized_for`), and the digest that groups students who gave the same
wrong answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from grader import sandbox
from grader.assignment import Assignment, Case, Kind, Question, case_sizes
from grader.judge import carry, compare
from grader.results import CaseResult, QuestionResult, Status

# An answer right on the worksheet's numbers and off by more than this (relative to the
# answer's scale) on the others is probably hard-coded; less is rounding.
_GROSSLY_WRONG = 1e-2

# Where a statement is, from its cell and line: "line 12", or "cell 3, line 2" in a notebook.
Where = Callable[[int | None, int | None], str]

_OUTCOME_STATUS = {
    "raised": Status.RAISED, "refused": Status.WRONG, "missing": Status.MISSING,
    "timeout": Status.TIMEOUT, "crashed": Status.RAISED,
}
# The errors of code that needs a module not here (a package not installed where grading
# runs, or a file of the student's not handed in; see sandbox.child.standins).
_MODULE_MISSING = ("MissingPackageError", "ModuleNotFoundError")
# What a call "given right answers" that did not answer says (see `_refusal`).
_NOT_TRIED = ("timeout", "crashed", "missing", "skipped")


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


@dataclass(frozen=True)
class Judging:
    """What a submission's run said, as the judging of each case needs it: every call's
    outcome by key, which checks were asked again "given right answers" (their keys, by the
    check's index), the verdicts so far by question (filled in question order), and how it is
    judged: how much a message may reveal, whether credit is carried forward, how a place in
    the submission is said."""

    assignment: Assignment
    checks: tuple[Check, ...]
    outcomes: dict[int, sandbox.CallOutcome]
    given: dict[int, int]
    judged: dict[str, QuestionResult]
    where: Where
    feedback: str = "full"  # one of grading.FEEDBACK_LEVELS
    carry_forward: bool = True

    def reveals(self, case: Case) -> bool:
        """Whether a message on this case may give its expected values."""
        return self.feedback == "full" or (self.feedback == "published" and case.worksheet)

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


def _ended_itself(outcome: sandbox.CallOutcome) -> bool:
    """The process ended while this very call ran ("was killed by SIGKILL", "ended the process
    with exit code 1": said of the function)."""
    return outcome.status == "crashed" and outcome.ran


def _returned(check: Check, outcome: sandbox.CallOutcome, reveal: bool) -> CaseResult:
    case = check.case
    if outcome.precision is None and check.target.right(outcome.value):
        return CaseResult(case.id, case.label, Status.PASSED, worksheet=case.worksheet)
    message = compare.compare(check.question, outcome.value, check.expected,
                              precision=outcome.precision, reveal=reveal)
    status = Status.PASSED if message is None else Status.WRONG
    return CaseResult(case.id, case.label, status, message or "", worksheet=case.worksheet,
                      precision=outcome.precision)


def _failure_message(outcome: sandbox.CallOutcome, where: Where) -> str:
    if _ended_itself(outcome):
        return f"the function {outcome.message}"
    if outcome.status == "raised" and outcome.line is not None:
        return f"{outcome.message} ({where(outcome.cell, outcome.line)})"
    return outcome.message


def plain(check: Check, outcome: sandbox.CallOutcome, reveal: bool, where: Where) -> CaseResult:
    """The case's verdict on its own: right, wrong (with why), or how it failed."""
    if outcome.status == "returned":
        return _returned(check, outcome, reveal)
    case = check.case
    raised = outcome.status == "raised"
    return CaseResult(case.id, case.label, _OUTCOME_STATUS[outcome.status], _failure_message(outcome, where),
                      worksheet=case.worksheet, error=outcome.error if raised else None,
                      skipped=not outcome.ran, could_not_run=raised and outcome.error in _MODULE_MISSING)


def judge(index: int, run: Judging) -> CaseResult:
    """Check `index`'s verdict, carrying an earlier function's error forward where the answer
    (or the failure) is the model answer's, built on what the student's own functions gave,
    and the function is right where what it builds on is."""
    check, outcome = run.checks[index], run.outcomes[index]
    alone = plain(check, outcome, run.reveals(check.case), run.where)
    if alone.status is Status.PASSED or outcome.status not in ("returned", "raised") or not outcome.used:
        return alone
    handed = _handed_a_matrix(run, outcome.used)
    if handed and outcome.status == "raised":
        alone = replace(alone, message=f"{alone.message}; {_matrix_note(handed)}")
    replayed = carry.replay(run.assignment, check.question.id, check.args, outcome.used)
    # A function right on its own question that failed on an np.matrix it was handed is not
    # wrong: whoever made the matrix is.
    replayed = replace(replayed, wrong=tuple(node for node in replayed.wrong if node not in handed))
    if not replayed.wrong:
        return alone  # nothing it built on was wrong: the error is its own
    if outcome.status == "raised":
        return _carried_failure(run, index, alone, replayed)
    return _carried_answer(run, index, alone, replayed)


def _handed_a_matrix(run: Judging, trace: tuple[sandbox.Traced, ...]) -> tuple[sandbox.Traced, ...]:
    """The recorded calls that raised only because they were handed an np.matrix: of a
    function right on its own question, called with a matrix."""
    return tuple(node for node in carry.flatten(trace) if node.status == "raised" and node.handed_matrix()
                 and run.right_on_its_own(node.function))


def _matrix_note(handed: tuple[sandbox.Traced, ...]) -> str:
    names = " and ".join(dict.fromkeys(node.function for node in handed))
    return (f"it broke inside your {names}, which is right on its own question, because it was handed an "
            f"np.matrix: on a matrix `*` is a matrix product and `**` a matrix power; keep to arrays "
            f"(np.array, and np.dot or @ where you mean a matrix product)")


def _blamed(wrong: tuple[sandbox.Traced, ...], roots: tuple[str, ...]) -> str:
    """What the earlier functions did wrong, in a few words."""
    if roots and all(node.gave_matrix() for node in wrong if node.function in roots):
        return "returned an np.matrix (on which `*` and `**` mean other things)"
    if roots and all(node.error in _MODULE_MISSING for node in wrong if node.function in roots):
        return "could not run here"
    return "gave a wrong answer on this case"


def _credit(run: Judging, alone: CaseResult) -> Status:
    return Status.PASSED if run.carry_forward else alone.status


def _carried_failure(run: Judging, index: int, alone: CaseResult, replayed: carry.Replay) -> CaseResult:
    """A call that failed only because what its own earlier function gave it broke the
    formula (a wrong shape in a product), or that function raised."""
    if not replayed.raised:
        return alone
    refused = _refusal(run, index, replayed.wrong)
    if refused is not None:
        return replace(alone, message=f"{alone.message}; {refused}")
    roots = _roots_of(run, index, replayed.wrong)
    # Not where it broke (a line of a correct function), but what it was given.
    message = f"{run.outcomes[index].message}, only because your {' and '.join(roots)} {_blamed(replayed.wrong, roots)}"
    # Roots that could not run here (a package not installed) are not wrong: said otherwise.
    at_roots = [node for node in replayed.wrong if node.function in roots]
    kind = "could not run" if at_roots and all(node.error in _MODULE_MISSING for node in at_roots) else \
        "matrix" if at_roots and all(node.gave_matrix() for node in at_roots) else "crash"
    return replace(alone, status=_credit(run, alone), message=message, carried_from=roots, carried_kind=kind)


def _carried_answer(run: Judging, index: int, alone: CaseResult, replayed: carry.Replay) -> CaseResult:
    """A wrong answer that is the model answer's built on the student's own wrong answers."""
    check, outcome = run.checks[index], run.outcomes[index]
    if replayed.raised or not carry.finite(replayed.value):
        return alone
    if not compare.agrees(check.question, outcome.value, replayed.value, precision=outcome.precision):
        again = _divided_again(run, index, replayed)
        return replace(alone, message=f"{alone.message}; {again}") if again else alone
    roots = _roots_of(run, index, replayed.wrong)
    if carry.trivial(replayed.value, check.expected):
        return replace(alone, carried_from=roots, carried_kind="trivial")
    refused = _refusal(run, index, replayed.wrong)
    if refused is not None:
        return replace(alone, message=f"{alone.message}; {refused}")
    return replace(alone, status=_credit(run, alone), carried_from=roots, carried_kind="value")


def _divided_again(run: Judging, index: int, replayed: carry.Replay) -> str | None:
    """Where the answer is what the student's own earlier functions give, divided once more by
    the number of examples (a mean taken on top of a cost that takes it already): said."""
    check, outcome = run.checks[index], run.outcomes[index]
    examples = case_sizes(run.assignment, check.case).get("examples")
    if not isinstance(examples, int) or examples < 2:
        return None
    parts = replayed.value if isinstance(replayed.value, tuple) else (replayed.value,)
    scaled = tuple(np.asarray(part, dtype=float) / examples for part in parts)
    if not compare.agrees(check.question, outcome.value, scaled if isinstance(replayed.value, tuple) else scaled[0],
                          precision=outcome.precision):
        return None
    roots = _roots_of(run, index, replayed.wrong)
    named = " and ".join(roots)
    averaging = [node.function for node in replayed.wrong if node.function in roots
                 and _divides_by(run.assignment, node, examples)]
    if averaging:  # the upstream function's own error is that very division
        return (f"right given your own {named} but for a division by {examples} (the number of examples) once "
                f"more: your {' and '.join(dict.fromkeys(averaging))} divides by the number of examples already")
    return (f"right given your own {named} but for a division by {examples} (the number of examples): your "
            f"{check.question.id} divides by the number of examples, where the worksheet's J is a sum")


def _divides_by(assignment: Assignment, node: sandbox.Traced, examples: int) -> bool:
    """A recorded answer is the model answer's on the same arguments, divided by `examples`."""
    if node.args is None or node.status != "returned":
        return False
    try:
        with np.errstate(all="ignore"):
            right = getattr(assignment.reference, node.function)(*[np.array(a, dtype=float) if isinstance(a, np.ndarray)
                                                                     else a for a in node.args])
    except Exception:
        return False
    parts = right if isinstance(right, tuple) else (right,)
    scaled = tuple(np.asarray(part, dtype=float) / examples for part in parts)
    return compare.agrees(assignment.question(node.function), node.value,
                          scaled if isinstance(right, tuple) else scaled[0])


def _roots_of(run: Judging, index: int, wrong: tuple[sandbox.Traced, ...]) -> tuple[str, ...]:
    """The first wrong functions behind the wrong recorded answers a check's call used, the
    question's own function left out where any other is to blame."""
    roots = tuple(dict.fromkeys(root for node in wrong for root in _roots(run, node)))
    return tuple(r for r in roots if r != run.checks[index].question.id) or roots


def _roots(run: Judging, node: sandbox.Traced) -> list[str]:
    """The first wrong functions behind a wrong recorded answer: the function itself when its
    own question shows its code is wrong, else whatever it built on."""
    own = run.judged.get(node.function)
    if own is None or any(c.status is not Status.PASSED and not c.carried_from for c in own.cases):
        return [node.function]
    inner = [root for child in carry.wrong_calls(run.assignment, node) for root in _roots(run, child)]
    carried = [name for c in own.cases for name in c.carried_from]
    return inner or carried or [node.function]


def _consistent(assignment: Assignment, node: sandbox.Traced, alone: sandbox.CallOutcome) -> bool:
    """A recorded call gave what the same call made on its own gave: the same answer, or the
    same kind of failure."""
    if node.status == "raised":
        return alone.status == "raised" and (node.error is None or alone.error in (None, node.error))
    return alone.status == "returned" and compare.agrees(assignment.question(node.function), node.value, alone.value)


def _refusal(run: Judging, index: int, wrong: tuple[sandbox.Traced, ...]) -> str | None:
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
        if alone is not None and not _consistent(run.assignment, node, alone):
            return (f"your {node.function} answered otherwise here than when called on its own with "
                    f"the same arguments")
    given = run.outcomes.get(run.given.get(index, -1))
    names = " and ".join(dict.fromkeys(node.function for node in wrong))
    if given is None or given.status in _NOT_TRIED:
        return f"it could not be tried with a right {names}"
    if given.status != "returned":  # not what it said: its words could quote a right answer
        return f"with a right {names} it still fails"
    check = run.checks[index]
    right = check.target.right(given.value) or compare.compare(check.question, given.value, check.expected) is None
    if given.precision is not None or not right:  # (right() is only the fast, sure half of it)
        return f"with a right {names} its answer is still wrong"
    return None


def published_only(cases: tuple[CaseResult, ...], checks: list[Check], outcomes: list[sandbox.CallOutcome]) -> bool:
    """Right on every case whose answer is published (the worksheet's own: students have them
    in the self-check file) and on no other, where it answers as a table of those answers would,
    not as a formula: it raises, or gives one of the published answers again, or a constant.
    A lookup of the published answers would earn as much: such a question earns nothing. An
    honest formula wrong off the worksheet (W2 left out, which the worksheet's ones hide) gives
    answers of its own there, and keeps what it earned; right on some published cases only,
    it is right where the case happens to allow it."""
    others = [k for k, c in enumerate(cases) if not c.worksheet]
    published = [k for k, c in enumerate(cases) if c.worksheet]
    if not (others and published) or not all(cases[k].status is Status.PASSED for k in published):
        return False
    answers = [outcomes[k].value for k in published]
    return all(cases[k].status in (Status.WRONG, Status.RAISED) and not cases[k].carried_from
               and not cases[k].could_not_run and _as_a_table_would(checks[k], outcomes[k], answers)
               for k in others)


def _as_a_table_would(check: Check, outcome: sandbox.CallOutcome, published: list[Any]) -> bool:
    """What a table of published answers gives for inputs it does not hold: nothing (it raises),
    one of its answers, or a constant."""
    if outcome.status == "raised":
        return True
    value = outcome.value
    if any(carry.same_args((value,), (answer,)) for answer in published):
        return True
    array, expected = compare.as_array(value), compare.as_array(check.expected)
    return array is not None and array.size > 1 and expected is not None and np.ptp(array) == 0 < np.ptp(expected)


def without_published_credit(cases: tuple[CaseResult, ...]) -> tuple[CaseResult, ...]:
    """The cases of a question right only where its answers are published, its right ones
    counted as not earned (see `published_only`)."""
    said = "right here, where the answer is published, but on no other case: not counted"
    return tuple(replace(c, status=Status.WRONG, message=said, carried_from=(), carried_kind="")
                 if c.status is Status.PASSED else c for c in cases)


@dataclass(frozen=True)
class SizedFor:
    """An answer right wherever a size is the worksheet's and wrong wherever it is not: each
    size that explains it, as (its name, the worksheet's values of it, the others, where the
    answer is wrong). Several where the cases can't tell them apart (every other case differs
    in both)."""

    sizes: tuple[tuple[str, tuple[Any, ...], tuple[Any, ...]], ...]

    def __str__(self) -> str:
        # "1 output", "3 hidden units", "1 or 3 examples", "3 examples or 3 hidden units"
        return " or ".join(f"{_either(seen)} {_counted(name, seen)}" for name, seen, _ in self.sizes)

    def others(self) -> str:
        if len(self.sizes) == 1:
            return _either(self.sizes[0][2], "and")
        return "; ".join(f"{_either(others, 'and')} {name}" for name, _, others in self.sizes)


def _counted(name: str, values: tuple[Any, ...]) -> str:
    return name[:-1] if values == (1,) and name.endswith("s") else name


def _either(values: tuple[Any, ...], joined: str = "or") -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {joined} {words[-1]}"


def sized_for(assignment: Assignment, cases: tuple[CaseResult, ...], checks: list[Check],
              outcomes: list[sandbox.CallOutcome]) -> SizedFor | None:
    """The size an answer is sized for, if there is one: right on every worksheet case, failing
    as an answer sized for other numbers does (raising, a wrong shape, a constant) on every case
    where that size differs from the worksheet's, and right on every other case. None where no
    size explains the failures, or they are wrong values of the right shape (W2 left out, which
    the worksheet's weights of one hide, is not a size): the hint would not be true."""
    if not any(c.worksheet for c in cases) or not all(c.status is Status.PASSED and not c.carried_from
                                                      for c in cases if c.worksheet):
        return None
    failing = [c for c in cases if c.status is not Status.PASSED]
    if not failing or not all(_sized_failure(c, check, outcome)
                              for c, check, outcome in zip(cases, checks, outcomes, strict=True)
                              if c.status is not Status.PASSED):
        return None
    sizes = [case_sizes(assignment, check.case) for check in checks]
    worksheet = [size for c, size in zip(cases, sizes, strict=True) if c.worksheet]
    explained = []
    for name in sizes[0]:
        seen = tuple(dict.fromkeys(size.get(name) for size in worksheet))
        differs = [size.get(name) not in seen for size in sizes]
        if all(differs[i] == (c.status is not Status.PASSED) for i, c in enumerate(cases)):
            others = (size.get(name) for size, differ in zip(sizes, differs, strict=True) if differ)
            explained.append((name, seen, tuple(dict.fromkeys(others))))
    return SizedFor(tuple(explained)) if explained else None


def _sized_failure(case: CaseResult, check: Check, outcome: sandbox.CallOutcome) -> bool:
    """A failure of the answer's own (nothing carried from an earlier function, nothing missing
    here) as an answer sized for other numbers fails: it raises, or its shape is not the
    answer's, or it is a constant where the answer is not, or a wrong dimension or choice."""
    if case.carried_from or case.could_not_run:
        return False
    if case.status is Status.RAISED:
        return outcome.status == "raised"
    if case.status is not Status.WRONG or outcome.status != "returned" \
            or not compare.error_size(check.question, outcome.value, check.expected) > _GROSSLY_WRONG:
        return False
    if check.question.kind not in (Kind.ARRAY, Kind.ARRAYS):
        return True
    arrays = check.question.kind is Kind.ARRAYS and isinstance(outcome.value, list) \
        and len(outcome.value) == len(check.expected)
    pairs = zip(outcome.value, check.expected, strict=True) if arrays else [(outcome.value, check.expected)]
    for got, want in pairs:
        got, want = compare.as_array(got), compare.as_array(want)
        if got is None or want is None or got.size != want.size:
            return True
        if got.size > 1 and np.ptp(got) == 0 < np.ptp(want):
            return True
    return False


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
