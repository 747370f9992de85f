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
from collections.abc import Iterator, Sequence
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


def _counterpart(node: Traced, calls: list[tuple[str, tuple]], nth: int) -> tuple | None:
    """The model's call of the same function most like the recorded one (most arguments the
    same). The recorded call is most often the model's own call of the same rank (`nth`, from
    0, among the calls of that function): when it is that call, no search, which for a
    numerical gradient's hundreds of calls would compare each with each."""
    mine = [made for name, made in calls if name == node.function and node.args is not None
            and len(made) == len(node.args)]
    if not mine or node.args is None:
        return None
    args = node.args
    if nth < len(mine) and all(_same(a, b) for a, b in zip(args, mine[nth], strict=True)):
        return mine[nth]
    return max(mine, key=lambda made: sum(_same(a, b) for a, b in zip(args, made, strict=True)))


def _ranked(trace: tuple[Traced, ...]) -> Iterator[tuple[int, Traced]]:
    """Each recorded call with its rank among the calls of its function, from 0."""
    counted: dict[str, int] = {}
    for node in trace:
        nth = counted[node.function] = counted.get(node.function, -1) + 1
        yield nth, node


def swapped(assignment: Assignment, question_id: str, args: tuple, trace: tuple[Traced, ...],
            values: tuple[Named, list[tuple[str, tuple]]] | None = None) -> dict[tuple[str, str], str | None]:
    """For each (function, parameter) of a recorded direct call whose argument is not the one
    the model passes there: the other value this call computes that it is (z3 where delta2
    takes z2), or None where it is none of them. `values`: `named_values` of the call, when
    computed already."""
    if not trace:
        return {}
    named, calls = values or named_values(assignment, question_id, args)
    own = _own_named(assignment, question_id, args, trace)
    found: dict[tuple[str, str], str | None] = {}
    for nth, node in _ranked(trace):
        model = _counterpart(node, calls, nth)
        if model is None or node.args is None:
            continue
        for parameter, got, want in zip(_parameters(assignment, node.function), node.args, model):  # noqa: B905
            if _same(got, want) or any(name == parameter and _same(value, got) for name, value in own):
                continue  # the right value, or the student's own of that name (wrong upstream)
            other = next((name for name, value in named if name != parameter and _same(value, got)), None)
            found.setdefault((node.function, parameter), other)
    return found


def from_outside(assignment: Assignment, question_id: str, runs: Sequence[tuple[tuple, CallOutcome]],
                 values: Sequence[tuple[Named, list[tuple[str, tuple]]] | None] | None = None
                 ) -> dict[str, list[str]]:
    """The arguments of recorded direct calls that do not change with the question's own
    arguments, where the model's do: not computed from them (a variable of the notebook's, a
    number written in), by function: {"delta3": ["yHat", "z3"]}. `values`: each run's
    `named_values`, when computed already."""
    seen: dict[tuple[str, int, int], list[tuple[Any, Any]]] = {}
    for index, (args, outcome) in enumerate(runs):
        if outcome.status not in ("returned", "raised"):
            continue
        known = values[index] if values is not None else None
        _, calls = known or named_values(assignment, question_id, args)
        for nth, node in _ranked(outcome.used):
            model = _counterpart(node, calls, nth)
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
    return fixed


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def note(assignment: Assignment, question_id: str, runs: Sequence[tuple[tuple, CallOutcome]]) -> str:
    """What the question's function wired wrong, from its runs (arguments, outcome), as a
    sentence for its feedback, or "". A swap is named only where it holds on every case on
    which that argument is not the model's, and never of an argument the same on every case."""
    values = [named_values(assignment, question_id, args) if outcome.status in ("returned", "raised") else None
              for args, outcome in runs]  # once, for both
    fixed = from_outside(assignment, question_id, runs, values)
    claims: dict[tuple[str, str], set[str | None]] = {}
    for (args, outcome), known in zip(runs, values, strict=True):
        if known is not None:
            for where, other in swapped(assignment, question_id, args, outcome.used, known).items():
                claims.setdefault(where, set()).add(other)
    said = [f"passes {next(iter(others))} to {function} where it takes {parameter}"
            for (function, parameter), others in claims.items()
            if len(others) == 1 and None not in others and parameter not in fixed.get(function, [])]
    if fixed:
        passes = ", ".join(f"{_listed(parameters)} to {function}" for function, parameters in fixed.items())
        said.insert(0, f"passes the same {passes} on every case, whatever its own arguments: numbers written "
                       f"in, or variables from outside the function (a forward pass run elsewhere?), where values "
                       f"computed from its own arguments belong")
    if not said:
        return ""
    return f"Your {question_id} " + "; it ".join(said[:3])
