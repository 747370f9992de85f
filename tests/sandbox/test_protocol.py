"""The sandbox's vocabulary (`child/protocol.py`): one meaning per letter, one layout per body."""

from __future__ import annotations

from grader.sandbox.child import protocol
from grader.sandbox.child.protocol import CHANNELS, FromRunner, FromWorker


def test_no_letter_means_two_things_on_any_channel():
    meanings: dict[bytes, set[str]] = {}
    for channel in CHANNELS:
        for member in channel:
            assert len(member.value) == 1, member
            meanings.setdefault(member.value, set()).add(member.name)
    assert {letter: names for letter, names in meanings.items() if len(names) > 1} == {}


def test_what_the_worker_passes_on_from_the_runner_keeps_its_letter_and_its_meaning():
    passed_on = {"ISOLATION", "ERROR", "MISSING", "STANDIN", "FLAG", "LOADED", "RESULT", "ANSWER"}
    for name in passed_on:
        assert FromWorker[name].value == FromRunner[name].value
    assert {member.name for member in FromRunner} - passed_on == {"FAILED", "CELL", "STATEMENT"}


def test_the_layouts_are_named_once_and_sized_as_the_frames_expect():
    assert (protocol.LENGTH.size, protocol.KEY.size, protocol.STATEMENT.size, protocol.COUNT.size,
            protocol.STATUS.size) == (4, 4, 10, 4, 4)
    assert protocol.STATUS.unpack(protocol.STATUS.pack(-9)) == (-9,)  # minus a signal's number


def test_a_runner_may_raise_only_some_of_the_flags():
    assert protocol.RUNNER_FLAGS < protocol.FLAGS
    assert protocol.Flag.INTERFERED.value not in protocol.RUNNER_FLAGS
