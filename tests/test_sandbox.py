"""The runner: limits end runaways, and each call's fate is its own.

Hostile code here bounds itself (sleeps and loops that end within a minute), so a regression
in the sandbox costs a slow test, never a stuck machine.
"""

import time

import numpy as np
import pytest

from conftest import with_solution, scores, statuses
from grader import sandbox
from grader.grading import Options

ONE_SECOND = Options(limits=sandbox.Limits(timeout=1.0))


def test_a_hanging_top_level_statement_is_a_timeout_and_earlier_definitions_are_graded(grade):
    source = with_solution("import time\ntime.sleep(60)\n")
    started = time.monotonic()
    result = grade(source, options=ONE_SECOND)
    assert time.monotonic() - started < 15
    assert result.score == 20
    (error,) = result.load_errors
    assert "ran for more than 1 s" in error.message


def test_a_hanging_function_costs_its_question_and_the_others_are_graded(grade):
    source = with_solution(
        "import time\n"
        "def dz3dW2(a2):\n"
        "    end = time.time() + 60\n"
        "    while time.time() < end:\n"
        "        try:\n"
        "            time.sleep(0.01)\n"
        "        except BaseException:\n"  # swallows anything the grader might raise in here
        "            pass\n"
    )
    started = time.monotonic()
    result = grade(source, options=ONE_SECOND)
    assert time.monotonic() - started < 15  # one timeout, the question's other cases skipped
    assert statuses(result)["dz3dW2"] == "timeout"
    assert result.score == 19


@pytest.mark.parametrize("ending", ["import os; os._exit(3)", "import sys; sys.exit(1)"])
def test_a_function_that_ends_the_process_costs_only_its_question(grade, ending):
    source = with_solution(f"def dz3dW2(a2):\n    {ending}\n")
    result = grade(source)
    assert scores(result)["dz3dW2"] == 0 and result.score == 19
    assert statuses(result)["dz3dW2"] in ("crashed", "raised")


def test_input_fails_at_once(grade):
    result = grade(with_solution("def dz3dW2(a2):\n    input('a2? ')\n    return a2.T\n"))
    assert statuses(result)["dz3dW2"] == "raised"
    (question,) = [q for q in result.questions if q.question.id == "dz3dW2"]
    assert "EOFError" in question.cases[0].message


def test_arguments_are_fresh_for_every_call(grade):
    # A function that scribbles on its input must not change the next call's arguments.
    result = grade(with_solution(
        "_d = dJdW2\ndef dJdW2(a2, delta3):\n    out = _d(a2, delta3)\n    a2[:] = 0\n    return out\n"))
    assert result.score == 20


def test_wire_values_are_rebuilt_and_checked():
    assert sandbox.decode_value({"array": [2], "data": [1.0, 2.5]}).tolist() == [1.0, 2.5]
    with pytest.raises(sandbox.UnreadableValue):
        sandbox.decode_value({"array": [3], "data": [1.0, 2.5]})
    with pytest.raises(sandbox.UnreadableValue):
        sandbox.decode_value({"__reduce__": "os.system"})
    assert isinstance(sandbox.decode_value({"unsupported": "dict"}), sandbox.Unsupported)
    assert sandbox.encode_argument(np.ones((1, 2))) == {"array": [1, 2], "data": [1.0, 1.0]}
