"""Where a wrong gradient goes wrong: the student's cost_function_prime against the numerical
gradient of their own forward and cost, the check the series teaches next (Part 5).

On one worksheet case (the assignment's `[own_gradient]` case) the student's process computes
J, with their own functions, at every weight pushed up and down by epsilon
(`runner.own_cost_values`, in the sandbox's child); here, in the grader, those values become
central differences, (J(w + e) - J(w - e)) / 2e, and are compared with
the gradient the student's cost_function_prime gave on the same data. Either it is not the
gradient of their own cost (the mistake is in backpropagation), or it is, and their cost or
forward pass is what is wrong (the mistake is upstream). Pure but for the call it plans.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader import sandbox
from grader.assignment import Case, OwnGradient
from grader.sandbox.child.protocol import OWN_COST

EPSILON = 1e-4
# |g - n| / |g + n|: central differences agree to about 1e-8 with an exact gradient; a
# backpropagation mistake is off by far more than 1e-3. Between the two, nothing is said.
AGREE, DISAGREE = 1e-6, 1e-3


def call(key: int, case: Case, stage: int, config: OwnGradient) -> sandbox.Call:
    """The call that asks the student's process for J around the case's weights: in a stage
    of its own after every question's calls, so that a submission slow here delays no grade
    (if its time runs out first, there is simply nothing to say)."""
    values = case.values
    args = (values["X"], values["y"], values["W1"], values["W2"], EPSILON)
    return sandbox.Call(key, (config.forward, config.cost), args, OWN_COST, stage=stage)


def numerical_gradient(values: Any, W1: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(dJ/dW1, dJ/dW2) by central differences from the J values, or None if they are not
    what was asked for (two finite numbers per weight)."""
    try:
        J = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None
    if J.size != 2 * (W1.size + W2.size) or not np.all(np.isfinite(J)):
        return None
    gradient = (J[0::2] - J[1::2]) / (2 * EPSILON)
    return gradient[:W1.size].reshape(W1.shape), gradient[W1.size:].reshape(W2.shape)


def note(answer: Any, values: Any, W1: np.ndarray, W2: np.ndarray, upstream_wrong: tuple[str, ...],
         config: OwnGradient) -> str | None:
    """What to tell a student whose cost_function_prime is wrong, or None when the numbers
    can't say (a shape that is not the weights', a function that raised, a near tie)."""
    numeric = numerical_gradient(values, W1, W2)
    if numeric is None or not isinstance(answer, (list, tuple)) or len(answer) != 2:
        return None
    try:
        given = [np.asarray(part, dtype=float) for part in answer]
    except (TypeError, ValueError):
        return None
    if [g.shape for g in given] != [W1.shape, W2.shape] or not all(np.all(np.isfinite(g)) for g in given):
        return None
    g = np.concatenate([part.ravel() for part in given])
    n = np.concatenate([part.ravel() for part in numeric])
    scale = np.linalg.norm(g + n)
    error = np.linalg.norm(g - n) / scale if scale else (0.0 if not np.linalg.norm(g - n) else np.inf)
    numerically = (f"the numerical gradient of your own {config.forward} and {config.cost} "
                   f"(central differences, epsilon {EPSILON:g}, on the worksheet's {config.case.upper()} data)")
    if error >= DISAGREE:
        return (f"Your gradient is not the gradient of your own cost: {numerically} differs from it, "
                f"so the mistake is in backpropagation itself ({config.culprits})")
    if error <= AGREE and upstream_wrong:
        return (f"Your gradient matches your own cost, which is wrong: it equals {numerically}, so "
                f"backpropagation is right and the mistake is upstream; fix {' and '.join(upstream_wrong)}")
    return None
