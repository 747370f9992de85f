"""The runner's own contract: fresh arguments per call, the wire format, the probe.

The hostile cases (loops, crashes, memory, tampering...) are in hostile/test_threats.py.
"""

import re

import numpy as np
import pytest

from conftest import BACKPROP, TINY, with_solution, with_tiny_solution
from grader import sandbox
from grader.sandbox import workers as processes
from grader.sandbox.child import wire as _wire


def test_arguments_are_fresh_for_every_call(grade_tiny):
    # A function that scribbles on its input must not change the next call's arguments (unit,
    # which nothing of the model answer calls: the same call's own caller would see it).
    result = grade_tiny(with_tiny_solution(
        "_u = unit\ndef unit(v):\n    out = _u(v)\n    v[:] = 0\n    return out\n"))

    assert result.score == TINY.max_score


def test_wire_values_round_trip_as_plain_data():
    encode = _wire.make_encoder(np)
    value = {"a": [1, 2.5, None, True, "text", np.arange(6.0).reshape(2, 3)], "b": np.float32(0.5),
             "c": 10 ** 30, "d": np.ones(2, dtype=np.float32)}
    precision = set()
    back = _wire.decode(encode(value, [1000]), np, precision=precision)
    assert back["a"][:5] == [1, 2.5, None, True, "text"]
    assert back["a"][5].tolist() == [[0, 1, 2], [3, 4, 5]] and back["a"][5].dtype == float
    assert back["b"] == 0.5 and back["c"] == float(10 ** 30) and back["d"].tolist() == [1.0, 1.0]
    assert precision == {"float32"}
    assert isinstance(_wire.decode(encode(object(), [100]), np, unsupported=sandbox.Unsupported), sandbox.Unsupported)
    with pytest.raises(_wire.ProtocolError):  # where nothing says what it becomes (the grader's own values)
        _wire.decode(encode(object(), [100]), np)


@pytest.mark.parametrize("array", [
    np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3).T, np.arange(12.0)[::3],
    np.array([np.nan, -0.0, np.inf, -np.inf]), np.ones((0, 3)), np.array(2.5),
    np.arange(6.0).astype(">f8"), np.arange(4), np.arange(4, dtype=np.float32)],
    ids=["c-order", "transposed", "strided", "non-finite", "empty", "0-d", "big-endian", "int", "float32"])
def test_arrays_travel_as_their_values_in_row_order_whatever_their_layout(array):
    """An answer is read back as float64 in C order, its shape kept: however numpy holds it
    (transposed, strided, big-endian, another dtype), only its values and shape travel."""
    back = _wire.decode(_wire.make_encoder(np)(array, [100]), np)
    assert back.dtype == np.float64 and back.shape == array.shape and back.flags.c_contiguous
    assert np.array_equal(back, array.astype(float), equal_nan=True)
    assert np.array_equal(np.signbit(back), np.signbit(array.astype(float)))


@pytest.mark.parametrize("data", [
    b"", b"Z", b"i\x00", b"a d\x01\x00\x00\x00\x05" + b"\x00" * 8,  # fewer numbers than its shape
    b"l\xff\xff\xff\xff", b"s\x00\x00\x00\x09abc", b"NN", b"a?\x00" + b"\x00" * 8,
    b"l\x00\x00\x00\x01" * 40 + b"N",  # nested deeper than allowed
])
def test_malformed_values_are_refused(data):
    with pytest.raises(_wire.ProtocolError):
        _wire.decode(data.replace(b" ", b""), np)


def test_a_frame_longer_than_its_limit_is_refused_before_it_is_kept():
    reader = _wire.FrameReader(limit=100)
    with pytest.raises(_wire.ProtocolError):
        reader.feed(b"\x00\x00\x10\x00" + b"x" * 10)
    assert _wire.split_frames(_wire.frame(b"K", b"abc") + _wire.frame(b"X")) == [(b"K", b"abc"), (b"X", b"")]


@pytest.mark.sandbox
def test_the_probe_reports_the_limits_in_force():
    isolation = sandbox.probe(limits=sandbox.Limits(memory_mb=700))
    assert isolation["limits"]["RLIMIT_AS"] == 700 * 1024 * 1024
    assert isolation["limits"]["RLIMIT_NOFILE"] == 256


def test_a_trace_is_read_only_when_needed_and_a_forged_one_is_no_trace():
    """A judged call's trace crosses as bytes of its own and is decoded (and checked) only
    when a verdict needs it: garbage, a function outside the assignment, or nesting past the
    bound each read as no trace at all, so nothing is carried forward from it."""
    encode = _wire.make_encoder(np)
    questions = frozenset({"forward", "sigmoid_prime"})

    def outcome(nodes=None, data=None):
        data = encode(nodes, [1000]) if data is None else data
        return sandbox.CallOutcome("returned", value=1.0, trace_data=data, trace_questions=questions)

    good = outcome([["sigmoid_prime", [np.ones(2)], np.ones(2), None, [], "0r"]])
    [node] = good.used
    assert node.function == "sigmoid_prime" and node.status == "returned"
    assert node.value.tolist() == [1.0, 1.0] and node.args[0].tolist() == [1.0, 1.0]
    assert node.handed_matrix() and node.gave_matrix()
    [forged] = outcome([["sigmoid_prime", [np.ones(2)], np.ones(2), None, [], "<b>" * 50]]).used
    assert forged.matrix == "" and not forged.gave_matrix()  # a marker that does not read is none
    assert outcome(data=b"\xff\x00garbage").used == ()
    assert outcome([["os.system", None, None, None, [], ""]]).used == ()
    nested = []
    for _ in range(12):
        nested = [["forward", None, None, None, nested, ""]]
    assert outcome(nested).used == ()
    assert sandbox.CallOutcome("returned", value=1.0).used == ()


@pytest.mark.parametrize("namespaces", ["1", "0"])
def test_the_students_environment_is_the_graders_minimum_and_a_private_home(grade, monkeypatch, namespaces):
    # Set once in the fork server where it can be: still nothing of the grader's environment
    # but the machine's BLAS settings, PATH and LANG, and a home that is the private folder.
    monkeypatch.setenv("BACKPROP_GRADER_NAMESPACES", namespaces)
    monkeypatch.setenv("GRADERS_SECRET_TOKEN", "not for students")
    processes.close_all()  # workers started from now on, with this environment
    # (the worksheet, not the tiny assignment: where a run is that quick, what a submission
    # printed as it loaded is now and then read only once the calls "given right answers" have
    # begun, and dropped)

    result = grade(with_solution("import os\nprint(sorted(os.environ.items()))\n"))


    processes.close_all()
    seen = dict(eval(result.output))
    assert set(seen) == {*processes.environment(), "HOME", "TMPDIR"} and "GRADERS_SECRET_TOKEN" not in seen
    assert seen["LANG"] == "C.UTF-8" and seen["HOME"] == seen["TMPDIR"]
    # Without namespaces: a folder of the job's own, in its worker's, in the grader's.
    assert seen["HOME"] == "/tmp" if namespaces == "1" else \
        re.fullmatch(r"/(var/)?tmp/backprop-grader-\w+/worker-\d+/job-\w+", seen["HOME"])


@pytest.mark.sandbox
def test_a_missing_package_with_a_name_not_in_ascii_costs_only_the_code_that_uses_it(grade):
    """`import café` (not installed anywhere): its note can't be said by name, but nothing
    else is lost; it was once taken for the submission interfering with the grader."""
    result = grade(with_solution("import café\n"))
    assert result.score == BACKPROP.max_score and "interfered with the grader" not in result.flags
