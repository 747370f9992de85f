"""Error carried forward: is a wrong answer right, given the student's own earlier functions?

The model answer's function for a question is replayed here, in the grader, with each graded
function it calls (delta3 calls sigmoid_prime; cost_function_prime calls forward, delta3, ...)
replaced by the student's answers to those calls. The student's answers come from the sandbox:
first from the calls already made for their own questions, then, for arguments only the replay
produces, from further rounds of calls. The reference's math is reused, never restated.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np

from grader import assignment, compare


class NeedCall(Exception):
    """The replay needs the student's answer to a call not made yet."""

    def __init__(self, function: str, args: tuple):
        super().__init__(function)
        self.function, self.args = function, args


class StudentFailed(Exception):
    """The student's function raised or gave nothing on a call the replay needs."""


@dataclass
class Known:
    """The student's answers so far: function id -> [(args, outcome status, value)]."""

    calls: dict[str, list[tuple[tuple, str, Any]]]

    def add(self, function: str, args: tuple, status: str, value: Any) -> None:
        self.calls.setdefault(function, []).append((args, status, value))

    def find(self, function: str, args: tuple):
        for known_args, status, value in self.calls.get(function, []):
            if same_args(known_args, args):
                return status, value
        return None


def same_args(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-9, atol=1e-12):
            return False
    return True


def dependencies(reference: ModuleType, question_id: str) -> tuple[str, ...]:
    """The graded functions that the reference's function for a question calls."""
    function = getattr(reference, question_id, None)
    if function is None:  # answered by constants, not a function
        return ()
    names = function.__code__.co_names
    graded = {q.id for q in assignment.QUESTIONS}
    return tuple(name for name in names if name in graded and name != question_id)


@dataclass(frozen=True)
class Replay:
    value: Any  # the reference's answer, built on the student's own functions
    wrong: tuple[str, ...]  # the student's functions that differed from the reference on the way


def replay(reference: ModuleType, question_id: str, args: tuple, known: Known) -> Replay:
    """Run the reference for a question with its graded dependencies answered by the student.
    Raises NeedCall for an answer not known yet, StudentFailed if the student's answer is
    unusable, and lets the reference's own errors through (a wrong shape breaking a product)."""
    wrong: list[str] = []

    def student(name: str) -> Callable:
        def answer(*call_args):
            found = known.find(name, call_args)
            if found is None:
                raise NeedCall(name, call_args)
            status, value = found
            if status != "returned":
                raise StudentFailed(name)
            right = getattr(reference, name)(*call_args)
            if compare.compare(assignment.question(name), value, right) is not None:
                wrong.append(name)
            if isinstance(value, list):
                return tuple(np.asarray(v, dtype=float) if not isinstance(v, (int, float)) else v
                             for v in value)
            return np.asarray(value, dtype=float) if not isinstance(value, (int, float)) else value
        return answer

    function = getattr(reference, question_id)
    scope = dict(vars(reference))
    for name in dependencies(reference, question_id):
        scope[name] = student(name)
    rebound = types.FunctionType(function.__code__, scope, function.__name__,
                                 function.__defaults__, function.__closure__)
    with np.errstate(all="ignore"):
        value = rebound(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
    return Replay(value, tuple(dict.fromkeys(wrong)))
