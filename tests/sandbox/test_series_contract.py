"""The engine knows no worksheet: the series' stand-ins and the own-gradient J come from the
assignment (assignment.toml), through the contract, to the runner."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from conftest import ROOT
from grader import assignment, grading
from grader.assignment import AssignmentError
from grader.sandbox import own_cost_values


def _as_the_runner_computed_it(forward, cost, X, y, W1, W2, epsilon):
    """J at each weight pushed up and down, as the runner hard-coded it before it was told."""
    values = []
    for which, W in enumerate((W1, W2)):
        for index in np.ndindex(*W.shape):
            for step in (epsilon, -epsilon):
                weights = [W1.copy(), W2.copy()]
                weights[which][index] += step
                yHat = forward(X.copy(), *weights)[3]
                values.append(float(np.sum(np.asarray(cost(y.copy(), yHat), dtype=float))))
    return values


def test_J_as_the_assignment_says_it_is_what_the_runner_computed():
    work = assignment.load("backprop")
    rng = np.random.default_rng(26)
    X, y, W1, W2 = rng.random((3, 2)), rng.random((3, 1)), rng.random((2, 3)), rng.random((3, 1))
    functions = {"forward": work.reference.forward, "cost": work.reference.cost}
    spec = grading.contract(work).own_cost_spec
    assert own_cost_values(spec, functions, (X, y, W1, W2, 1e-4)) == \
        _as_the_runner_computed_it(*functions.values(), X, y, W1, W2, 1e-4)


@pytest.mark.parametrize("name, has_J", [("backprop", True), ("gradient-checking", False)])
def test_the_contract_carries_the_series_stand_ins_and_J(name, has_J):
    contract = grading.contract(assignment.load(name))
    assert contract.series_modules == ("partOne", "partTwo", "partThree", "partFour", "partFive", "partSix")
    scope: dict = {}
    exec(contract.series_standin, scope)
    assert sorted(k for k in scope if not k.startswith("__")) == ["X", "np", "y"]
    assert scope["X"].max() == 1.0 and scope["y"].tolist() == [[0.75], [0.82], [0.93]]
    assert bool(contract.own_cost_spec) is has_J


def test_an_own_gradient_that_does_not_say_what_J_is_is_refused(tmp_path):
    folder = tmp_path / "solutions" / "backprop"
    shutil.copytree(ROOT / "solutions" / "backprop", folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = folder / "assignment.toml"
    manifest.write_text(re.sub(r"^J = .*\n", "", manifest.read_text(), flags=re.M))
    with pytest.raises(AssignmentError, match=r"\[own_gradient\] needs J, arguments and weights"):
        assignment.load(folder)
