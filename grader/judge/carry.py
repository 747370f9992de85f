"""Error carried forward: is a wrong answer right, given the student's own earlier functions?

The student's process records, for each judged call, the graded functions that call used (with
the arguments and what each gave back): see `sandbox.Traced`. Here, in the grader, the model
answer's function for the question is replayed with every graded function it reaches, at any
depth, answered by the student's recorded answer to that same call where there is one, and by
the model answer where there is none. Credit is carried forward only for an error the student's
function really built on, in this very run; the reference's math is reused, never restated.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.judge import compare
from grader.sandbox import Traced


class StudentFailed(Exception):
    """A recorded call the replay needs raised in the student's process."""


class OutOfBounds(Exception):
    """A recorded answer the replay needs has a shape past the assignment's bounds."""


def same_args(a: tuple, b: tuple) -> bool:
    """Two calls' arguments are the same call: equal shapes, and numbers equal but for the last
    bits (the student's own forward pass may round differently from the model answer's)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        x, y = compare.as_array(x), compare.as_array(y)
        if x is None or y is None or x.shape != y.shape:
            return False
        if x.size and not np.max(np.abs(x - y)) <= 1e-12 + 1e-9 * np.max(np.abs(y)):
            return False
    return True


def graded_functions(assignment: Assignment) -> tuple[str, ...]:
    """The question ids answered by a function of the model answer."""
    return tuple(q.id for q in assignment.questions if callable(getattr(assignment.reference, q.id, None)))


def dependencies(assignment: Assignment, question_id: str) -> tuple[str, ...]:
    """The graded functions that the reference's function for a question calls directly."""
    function = getattr(assignment.reference, question_id, None)
    if function is None:  # answered by constants, not a function
        return ()
    graded = set(graded_functions(assignment))
    return tuple(name for name in function.__code__.co_names if name in graded and name != question_id)


def flatten(trace: tuple[Traced, ...]) -> Iterator[Traced]:
    for node in trace:
        yield node
        yield from flatten(node.calls)


def _student_value(value: Any) -> Any:
    """A recorded answer as the reference's code expects it: arrays, and tuples for several."""
    if isinstance(value, list):
        return tuple(_student_value(v) for v in value)
    if isinstance(value, (int, float)) or value is None:
        return value
    return np.asarray(value, dtype=float) if compare.as_array(value) is not None else value


@lru_cache(maxsize=8)
def bounds(assignment: Assignment) -> tuple[int, int]:
    """The most dimensions, and the longest dimension, an array the grader runs the model
    answer on may have: one more dimension than any value of the assignment's cases has, and
    four times their longest (at least 16). A student's recorded answer is run through the
    model's formulas in the grader's own process, where broadcasting shapes it chose, (K, 1, 1)
    against (1, K, 1), could take all its memory; cases are small."""
    arrays = [np.asarray(value) for case in assignment.cases(assignment.default_seed) for value in case.values.values()
              if isinstance(value, np.ndarray)]
    return (1 + max((a.ndim for a in arrays), default=2),
            max(16, 4 * max((max(a.shape, default=1) for a in arrays), default=4)))


def within(assignment: Assignment, value: Any) -> bool:
    """Every array in a recorded value is within the assignment's bounds (see `bounds`)."""
    if isinstance(value, (tuple, list)):
        return all(within(assignment, part) for part in value)
    array = compare.as_array(value)
    if array is None:
        return True
    ndim, longest = bounds(assignment)
    return array.ndim <= ndim and all(length <= longest for length in array.shape)


def is_wrong(assignment: Assignment, node: Traced) -> bool:
    """The recorded answer differs from the model answer on the same arguments, or it raised
    where the model answer does not: a failure on arguments that break the model answer too
    (a wrong shape handed down) is not this function's fault."""
    if node.gave_matrix():
        return True  # whatever its numbers, the callers' `*` and `**` mean other things on it
    if node.args is None:
        return node.status != "returned"  # arguments that could not be matched
    if not within(assignment, node.args):
        return False  # not run here (see bounds): nothing is carried from it
    try:
        with np.errstate(all="ignore"):
            right = getattr(assignment.reference, node.function)(*_copies(node.args))
    except Exception:
        return False
    if node.status != "returned":
        return True
    return not compare.agrees(assignment.question(node.function), node.value, right)


def _copies(args: tuple) -> list:
    return [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]


@dataclass(frozen=True)
class Replay:
    value: Any  # the reference's answer built on the student's recorded answers
    raised: bool  # the reference's formula failed on them (a shape that breaks a product)
    wrong: tuple[Traced, ...]  # the recorded answers it used that were wrong


def _model_with(assignment: Assignment, question_id: str,
                wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> Callable[..., Any]:
    """The model answer's function for a question, every graded function it reaches (at any
    depth) standing in as wrap(name, the model's own function): the reference's maths reused,
    each graded call seen on its way."""
    reference = assignment.reference
    scope = dict(vars(reference))

    def rebound(function: Any) -> Callable[..., Any]:
        return types.FunctionType(function.__code__, scope, function.__name__, function.__defaults__,
                                  function.__closure__)

    for name in graded_functions(assignment):
        scope[name] = wrap(name, rebound(getattr(reference, name)))
    return rebound(getattr(reference, question_id))


def replay(assignment: Assignment, question_id: str, args: tuple, trace: tuple[Traced, ...]) -> Replay:
    """Run the reference for a question where every graded function it reaches is answered by
    the student's recorded answer to that very call, if there is one."""
    # By function, in the order made; each lookup starts after the last one found for that
    # function: the model makes its calls in the student's order nearly always, so a numerical
    # gradient's 150 calls cost 150 comparisons, not 150 squared.
    recorded: dict[str, list[Traced]] = {}
    for node in flatten(trace):
        if node.args is not None:
            recorded.setdefault(node.function, []).append(node)
    next_at: dict[str, int] = {}
    used_wrong: list[Traced] = []

    def found(name: str, call_args: tuple) -> Traced | None:
        nodes = recorded.get(name, [])
        start = next_at.get(name, 0)
        for offset in range(len(nodes)):
            index = (start + offset) % len(nodes)
            if same_args(nodes[index].args or (), call_args):
                next_at[name] = index + 1
                return nodes[index]
        return None

    def answered(name: str, model: Callable[..., Any]) -> Callable[..., Any]:
        def answer(*call_args: Any) -> Any:
            node = found(name, call_args)
            if node is None:  # the student's code did not make this call: the model's answer
                return model(*call_args)
            if not within(assignment, node.value):
                raise OutOfBounds(name)
            if is_wrong(assignment, node):
                used_wrong.append(node)
            if node.status != "returned":
                raise StudentFailed(name)
            return _student_value(node.value)
        return answer

    top = _model_with(assignment, question_id, answered)
    try:
        with np.errstate(all="ignore"):
            value, raised = top(*_copies(args)), False
    except OutOfBounds:  # not replayed: nothing is carried forward
        return Replay(None, False, ())
    except Exception:  # StudentFailed, or the reference breaking on the student's values
        value, raised = None, True
    return Replay(value, raised, tuple(dict.fromkeys(used_wrong)))


def inner_calls(assignment: Assignment, question_id: str, args: tuple) -> tuple[tuple[str, tuple, Any], ...]:
    """Every call the model answer for a question makes of a graded function, at any depth,
    on these arguments: (question id, arguments, the model's answer), in order, once each.
    Given to the student's own function in place of its own earlier functions' answers, they
    ask whether it is right when what it builds on is."""
    if not callable(getattr(assignment.reference, question_id, None)):
        return ()
    made: list[tuple[str, tuple, Any]] = []

    def recorded(name: str, model: Callable[..., Any]) -> Callable[..., Any]:
        def call(*call_args: Any) -> Any:
            answer = model(*call_args)
            if not any(done == name and same_args(args_made, call_args) for done, args_made, _ in made):
                made.append((name, tuple(_copies(call_args)), _copies_of(answer)))
            return answer
        return call

    with np.errstate(all="ignore"):
        _model_with(assignment, question_id, recorded)(*_copies(args))
    return tuple(made)


def _copies_of(answer: Any) -> Any:
    if isinstance(answer, tuple):
        return tuple(_copies_of(part) for part in answer)
    return np.array(answer, dtype=float) if isinstance(answer, np.ndarray) else answer


def finite(value: Any) -> bool:
    """Every number in a replayed answer is finite: an infinite one accepts nothing."""
    parts = value if isinstance(value, tuple) else (value,)
    for part in parts:
        array = compare.as_array(part)
        if array is None or not np.all(np.isfinite(array)):
            return False
    return True


def trivial(value: Any, expected: Any) -> bool:
    """The replayed answer is constant (all zeros, say) where the right answer is not: the
    earlier error left nothing of this question to get right."""
    parts = value if isinstance(value, tuple) else (value,)
    wanted = expected if isinstance(expected, tuple) else (expected,)
    for got, right in zip(parts, wanted, strict=False):
        got, right = compare.as_array(got), compare.as_array(right)
        if got is None or right is None:
            return False
        if got.size > 1 and np.ptp(got) == 0 and np.ptp(right) > 0:
            return True
        if got.size == 1 and right.size == 1 and float(got.ravel()[0]) == 0 != float(right.ravel()[0]):
            return True
    return False


def wrong_calls(assignment: Assignment, node: Traced) -> list[Traced]:
    """The graded calls a recorded call made in turn that were themselves wrong."""
    return [child for child in node.calls if is_wrong(assignment, child)]
