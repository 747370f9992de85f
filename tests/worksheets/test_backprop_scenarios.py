"""The backpropagation worksheet's scenarios: one submission per file in
tests/worksheets/scenarios, its expected outcome in its header comments (see scenario_runner)."""

from pathlib import Path

import pytest

from conftest import FAST, SOLUTION
from scenario_runner import every_scenario_expects_something, run_scenario

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.py"))


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(scenario, tmp_path):
    run_scenario(scenario, tmp_path, FAST, SOLUTION)


def test_every_scenario_expects_something():
    every_scenario_expects_something(SCENARIOS)
