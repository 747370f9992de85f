"""The runner's own contract: fresh arguments per call, the wire format, the probe.

The hostile cases (loops, crashes, memory, tampering...) are in test_hostile.py.
"""

import numpy as np
import pytest

from conftest import with_solution
from grader import sandbox


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
    with pytest.raises(sandbox.UnreadableValue):
        sandbox.decode_value({"array": [1], "data": ["1.0"]})
    assert isinstance(sandbox.decode_value({"unsupported": "dict"}), sandbox.Unsupported)
    assert sandbox.encode_argument(np.ones((1, 2))) == {"array": [1, 2], "data": [1.0, 1.0]}


def test_the_probe_reports_the_limits_in_force():
    isolation = sandbox.probe(limits=sandbox.Limits(memory_mb=700))
    assert isolation["limits"]["RLIMIT_AS"] == 700 * 1024 * 1024
    assert isolation["limits"]["RLIMIT_NOFILE"] == 256
