"""Wiring mistakes, named from the recorded calls: a function whose every piece is right can
still pass the wrong value to one of them (`z3` where `delta2` takes `z2`), or a value from
outside itself (a variable of the notebook's, the same on every case, where its own forward
pass belongs).

The student's process records each graded call a judged call made, with its arguments (see
`sandbox.Traced`). Here the model answer is run on the same arguments, and every value it
computes on the way is named: the call's own parameters, each inner call's parameters, and what
each inner call gives (a forward pass's z2, a2, z3, yHat by its parts). A recorded argument that
is not the one the model passes there, but is another of those named values, is the wrong one
wired in; one that is the same on cases whose arguments differ comes from outside the function.
Pure: the reference's maths is reused, nothing is restated.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.assignment import Assignment, Kind
from grader.judge import carry, compare
from grader.sandbox import CallOutcome, Traced

Named = list[tuple[str, Any]]


def _parameters(assignment: Assignment, name: str) -> tuple[str, ...]:
    function = getattr(assignment.reference, name, None)
    return tuple(inspect.signature(function).parameters) if callable(function) else ()


def _same(a: Any, b: Any) -> bool:
    x, y = compare.as_array(a), compare.as_array(b)
    if x is None or y is None or x.shape != y.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(x.size == 0 or np.max(np.abs(x - y)) <= 1e-9 + 1e-6 * np.max(np.abs(y)))


def named_values(assignment: Assignment, question_id: str, args: tuple) -> tuple[Named, list[tuple[str, tuple]]]:
    """Every value the model answer computes for a question on these arguments, by name, and
    the graded calls it makes (function, arguments), in order."""
    named: Named = list(zip(_parameters(assignment, question_id), args))  # noqa: B905 - defaults
    calls = []
    for name, call_args, answer in carry.inner_calls(assignment, question_id, args):
        calls.append((name, call_args))
        named += zip(_parameters(assignment, name), call_args)  # noqa: B905 - defaults
        question = assignment.question(name)
        if question.kind is Kind.ARRAYS and isinstance(answer, tuple):
            named += zip(question.parts, answer)  # noqa: B905
        else:
            named.append((name, answer))
    return named, calls


def _own_named(assignment: Assignment, question_id: str, args: tuple, trace: tuple[Traced, ...]) -> Named:
    """The values the student's own recorded calls gave, by name, and the call's arguments."""
    named: Named = list(zip(_parameters(assignment, question_id), args))  # noqa: B905
    for node in trace:
        if node.status != "returned":
            continue
        question = assignment.question(node.function)
        if question.kind is Kind.ARRAYS and isinstance(node.value, list):
            named += zip(question.parts, node.value)  # noqa: B905
        else:
            named.append((node.function, node.value))
    return named


def _counterpart(node: Traced, calls: list[tuple[str, tuple]]) -> tuple | None:
    """The model's call of the same function most like the recorded one (most arguments the same)."""
    mine = [made for name, made in calls if name == node.function and node.args is not None
            and len(made) == len(node.args)]
    if not mine or node.args is None:
        return None
    args = node.args
    return max(mine, key=lambda made: sum(_same(a, b) for a, b in zip(args, made, strict=True)))


def swapped(assignment: Assignment, question_id: str, args: tuple, trace: tuple[Traced, ...]) -> list[str]:
    """"passes z3 to delta2 where it takes z2", for each recorded direct call given another of
    the values this call computes where the model passes its own."""
    if not trace:
        return []
    named, calls = named_values(assignment, question_id, args)
    own = _own_named(assignment, question_id, args, trace)
    said = []
    for node in trace:
        model = _counterpart(node, calls)
        if model is None or node.args is None:
            continue
        for parameter, got, want in zip(_parameters(assignment, node.function), node.args, model):  # noqa: B905
            if _same(got, want) or any(name == parameter and _same(value, got) for name, value in own):
                continue  # the right value, or the student's own of that name (wrong upstream)
            other = next((name for name, value in named if name != parameter and _same(value, got)), None)
            if other is not None:
                said.append(f"passes {other} to {node.function} where it takes {parameter}")
    return list(dict.fromkeys(said))


def from_outside(assignment: Assignment, question_id: str, runs: Sequence[tuple[tuple, CallOutcome]]) -> list[str]:
    """"passes delta3 a yHat that is the same on every case", for an argument of a recorded
    direct call that does not change with the question's own arguments: it is not computed from
    them (a variable of the notebook's), where the model's does change."""
    seen: dict[tuple[str, int, int], list[tuple[Any, Any]]] = {}
    for args, outcome in runs:
        if outcome.status not in ("returned", "raised"):
            continue
        _, calls = named_values(assignment, question_id, args)
        counted: dict[str, int] = {}
        for node in outcome.used:
            nth = counted[node.function] = counted.get(node.function, -1) + 1
            model = _counterpart(node, calls)
            if model is None or node.args is None:
                continue
            for position, (got, want) in enumerate(zip(node.args, model)):  # noqa: B905
                seen.setdefault((node.function, nth, position), []).append((got, want))
    fixed: dict[str, list[str]] = {}  # function -> the parameters it was passed the same on every case
    for (function, _, position), pairs in seen.items():
        constant = all(_same(got, pairs[0][0]) for got, _ in pairs)
        varies = not all(_same(want, pairs[0][1]) for _, want in pairs)
        if len(pairs) > 1 and constant and varies:
            parameter = _parameters(assignment, function)[position]
            fixed.setdefault(function, [])
            if parameter not in fixed[function]:
                fixed[function].append(parameter)
    if not fixed:
        return []
    passes = ", ".join(f"{_listed(parameters)} to {function}" for function, parameters in fixed.items())
    return [f"passes the same {passes} on every case, whatever its own arguments: variables from outside "
            f"the function (a forward pass run elsewhere?), where values of its own belong"]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def note(assignment: Assignment, question_id: str, runs: Sequence[tuple[tuple, CallOutcome]]) -> str:
    """What the question's function wired wrong, from its failing runs (arguments, outcome),
    as a sentence for its feedback, or ""."""
    said = from_outside(assignment, question_id, runs)
    for args, outcome in runs:
        if outcome.status in ("returned", "raised"):
            said += swapped(assignment, question_id, args, outcome.used)
    said = list(dict.fromkeys(said))
    if not said:
        return ""
    return f"Your {question_id} " + "; it ".join(said[:3])
