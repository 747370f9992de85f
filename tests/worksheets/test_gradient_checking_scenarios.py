"""The gradient-checking worksheet's scenarios: one submission per file in
tests/worksheets/scenarios_gradient_checking, its expected outcome in its header comments (see
scenario_runner)."""

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import FAST
from grader import assignment
from scenario_runner import every_scenario_expects_something, run_scenario

CHECKING = assignment.load("gradient-checking")
CHECKING_FAST = replace(FAST, assignment=CHECKING, catalogues=None)
MODEL = CHECKING.model_answer_path.read_text(encoding="utf-8")
SCENARIOS = sorted((Path(__file__).parent / "scenarios_gradient_checking").glob("*.py"))


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(scenario, tmp_path):
    run_scenario(scenario, tmp_path, CHECKING_FAST, MODEL)


def test_every_scenario_expects_something():
    assert SCENARIOS
    every_scenario_expects_something(SCENARIOS)
