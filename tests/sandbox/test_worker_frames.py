"""The worker's check of what a runner says (`Run.check`), fed synthetic frames: out of order,
forged answers, unknown kinds, oversized bodies. No sandbox is started: a Run is made over a
pipe that stands for the runner's channel and a socket that stands for the fork server."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from grader.sandbox.child.protocol import (
    COUNT,
    KEY,
    STATEMENT,
    STATUS,
    Flag,
    FromForkServer,
    FromRunner,
    FromWorker,
    ToForkServer,
    ToRunner,
)
from grader.sandbox.child.wire import MAX_RUNNER_FRAME, decode, frame, make_encoder, reference, split_frames
from grader.sandbox.child.worker import Fatal, Inbox, Run, Submission

ENCODE = make_encoder(np)
LIMITS = {"timeout": 2.0, "budget": 12.0, "budget_timeouts": 6, "memory_mb": 0, "max_output": 4000,
          "max_output_total": 1 << 20, "max_answers": 1000, "disk_mb": 64}


class Harness:
    """A Run as the worker makes one, its channels ends the test reads: what the runner is
    told (`told`), what the fork server is asked (`asked`), what the grader gets (`out`)."""

    def __init__(self, stages: list[list[int]], held: frozenset[int] = frozenset()) -> None:
        calls = {key: ENCODE([key, ["f"], "q", [key], False, None, None, []], [1000])
                 for stage in stages for key in stage}
        header = {"limits": LIMITS, "stages": [[[key, f"q{key}"] for key in stage] for stage in stages],
                  "plan": {}, "program": b"", "statements": 3}
        self.server, self.fork_server = socket.socketpair()
        inbox = Inbox(self.server.fileno(), read=lambda size: self.server.recv(size, socket.MSG_DONTWAIT))
        self.submission = Submission({"header": header, "calls": calls}, self.server, inbox,
                                     {"namespaces": True, "hidden": [], "failures": []}, {}, ENCODE)
        self.submission.held = held
        self.run = Run(self.submission)
        self.from_worker, self.run.to_runner = os.pipe()
        os.set_blocking(self.from_worker, False)
        self.fork_server.setblocking(False)

    def close(self) -> None:
        for fd in (self.from_worker, self.run.to_runner):
            os.close(fd)
        self.server.close()
        self.fork_server.close()

    def say(self, kind: bytes, body: bytes = b"") -> Harness:
        self.run.check(kind, body)
        return self

    def told(self) -> list[tuple[bytes, bytes]]:
        try:
            return split_frames(os.read(self.from_worker, 1 << 20))
        except BlockingIOError:
            return []

    def asked(self) -> list[tuple[bytes, bytes]]:
        try:
            return split_frames(self.fork_server.recv(1 << 16))
        except BlockingIOError:
            return []

    def out(self) -> list[tuple[bytes, bytes]]:
        return split_frames(b"".join(self.submission.out))

    def loaded(self) -> Harness:
        """Isolated, one cell run, loaded: the first stage asked."""
        return (self.say(FromRunner.ISOLATION, ENCODE({}, [100])).say(FromRunner.CELL, STATEMENT.pack(0, 0, 0))
                .say(FromRunner.LOADED, ENCODE({"defined": [], "fragments": []}, [100])))

    @property
    def interfered(self) -> str | None:
        """What the run was ended for, if the worker ended it as interference (and killed it)."""
        if self.run.ended != "interfered":
            return None
        assert Flag.INTERFERED in self.submission.flags
        assert (ToForkServer.KILL, b"") in self.asked()
        return self.run.message


@pytest.fixture
def harness():
    made = []

    def make(stages=([1, 2], [3]), held=frozenset()) -> Harness:
        made.append(Harness([list(stage) for stage in stages], held))
        return made[-1]

    yield make
    for each in made:
        each.close()


def answer(key: int, value: object = 1.0) -> bytes:
    return KEY.pack(key) + ENCODE(value, [10 ** 6])


def test_a_runner_that_says_what_it_should_is_seen_through_every_stage(harness):
    h = harness().loaded()
    assert h.run.phase == "calls"
    [(kind, body)] = h.told()
    assert kind == ToRunner.STAGE and [call[0] for call in decode(body, np)] == [1, 2]
    h.say(FromRunner.ANSWER, answer(1)).say(FromRunner.RESULT, answer(2, ["returned"]))
    [(kind, body)] = h.told()
    assert kind == ToRunner.STAGE and [call[0] for call in decode(body, np)] == [3]
    h.say(FromRunner.ANSWER, answer(3))
    assert h.told() == [(ToRunner.NO_MORE, b"")] and h.run.phase == "done" and h.run.ended is None
    assert [kind for kind, _ in h.out()] == [FromWorker.ISOLATION, FromWorker.LOADED, FromWorker.ANSWER,
                                            FromWorker.RESULT, FromWorker.ANSWER]
    assert h.asked() == []  # nothing killed


def test_calls_the_fork_server_holds_are_named_by_their_key(harness):
    h = harness(held=frozenset({1, 2})).loaded()
    [(_, body)] = h.told()
    assert body == b"l" + KEY.pack(2) + reference(1) + reference(2)


@pytest.mark.parametrize("frames, said", [
    ([(FromRunner.STATEMENT, (0, 2, 5)), (FromRunner.STATEMENT, (0, 1, 4))], "announced a statement out of order"),
    ([(FromRunner.STATEMENT, (0, 1, 4)), (FromRunner.STATEMENT, (0, 1, 4))], "announced a statement out of order"),
    ([(FromRunner.CELL, (1, 0, 0)), (FromRunner.CELL, (0, 0, 0))], "announced a cell out of order"),
    ([(FromRunner.CELL, (1, 0, 0)), (FromRunner.CELL, (1, 0, 0))], "announced a cell out of order"),
    ([(FromRunner.STATEMENT, (2, 0, 1)), (FromRunner.CELL, (1, 0, 0))], "announced a cell out of order"),
])
def test_announcements_out_of_order_end_the_run(harness, frames, said):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100]))
    for kind, where in frames:
        h.say(kind, STATEMENT.pack(*where))
    assert h.interfered == f"the submission interfered with the grader: it {said}"


def test_a_cell_the_worker_runs_a_statement_at_a_time_may_not_be_announced_whole(harness):
    h = harness()
    h.submission.stop_at[0] = 2
    h.say(FromRunner.ISOLATION, ENCODE({}, [100])).say(FromRunner.CELL, STATEMENT.pack(0, 0, 0))
    assert "announced a cell out of order" in h.interfered


def test_statements_in_order_are_followed(harness):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100]))
    for where in ((0, 0, 1), (0, 3, 7), (1, 0, 1)):
        h.say(FromRunner.STATEMENT, STATEMENT.pack(*where))
    assert h.run.ended is None and h.run.running_stmt == (1, 0, 1) and h.run.started_student


@pytest.mark.parametrize("forged", [
    [answer(2)],  # not the call running now
    [answer(99)],  # a call never asked
    [answer(1), answer(1)],  # the same call twice
])
def test_forged_answers_end_the_run(harness, forged):
    h = harness().loaded()
    for body in forged:
        h.say(FromRunner.ANSWER, body)
    assert h.interfered == "the submission interfered with the grader: it answered a call that was not asked, or twice"


def test_an_answer_of_the_next_stage_before_it_is_asked_ends_the_run(harness):
    h = harness().loaded().say(FromRunner.ANSWER, answer(1)).say(FromRunner.ANSWER, answer(3))
    assert "answered a call that was not asked" in h.interfered
    assert 3 not in h.submission.answered


@pytest.mark.parametrize("kind", [b"Z", b"K", b"x", b"\x00", FromWorker.OUTCOME, FromWorker.OVERRAN, FromWorker.END,
                                  ToRunner.STAGE])
def test_a_kind_the_runner_never_sends_ends_the_run(harness, kind):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100])).say(kind, b"anything")
    assert h.interfered == (f"the submission interfered with the grader: it sent a message the grader did not "
                            f"expect ({kind!r} while loading)")
    assert all(k != kind for k, _ in h.out())  # nothing of it reaches the grader


@pytest.mark.parametrize("kind, body, phase", [
    (FromRunner.RESULT, answer(1), "loading"),  # an answer before any call is asked
    (FromRunner.ANSWER, answer(1), "isolating"),
    (FromRunner.ISOLATION, ENCODE({}, [100]), "loading"),  # isolated twice
    (FromRunner.FAILED, b"could not pretend", "loading"),  # "could not ..." once student code ran
    (FromRunner.CELL, STATEMENT.pack(0, 0, 0), "isolating"),  # student code before isolation
    (FromRunner.LOADED, ENCODE({}, [100]), "isolating"),
    (FromRunner.ERROR, STATEMENT.pack(0, 0, 1) + b"late", "calls"),
])
def test_a_kind_out_of_its_phase_ends_the_run(harness, kind, body, phase):
    h = harness()
    if phase != "isolating":
        h.say(FromRunner.ISOLATION, ENCODE({}, [100]))
    if phase == "calls":
        h.loaded()
    h.say(kind, body)
    assert f"sent a message the grader did not expect ({kind!r} while {phase})" in h.interfered


def test_failing_to_isolate_is_the_sandboxs_failure_not_interference(harness):
    h = harness()
    with pytest.raises(Fatal, match="could not set no_new_privs"):
        h.say(FromRunner.FAILED, b"could not set no_new_privs")
    assert h.run.ended is None and not h.submission.flags


@pytest.mark.parametrize("kind, body", [
    (FromRunner.STATEMENT, STATEMENT.pack(0, 0, 0)[:-1]),  # a body of the wrong size
    (FromRunner.STATEMENT, STATEMENT.pack(0, 0, 0) + b"\0"),
    (FromRunner.CELL, b""),
    (FromRunner.ERROR, b"short"),
    (FromRunner.MISSING, b""),
    (FromRunner.MISSING, b"x" * 101),  # a name longer than a name may be
    (FromRunner.STANDIN, b"part One"),  # not an identifier
    (FromRunner.STANDIN, b"../partOne"),
])
def test_a_body_not_of_its_kinds_shape_ends_the_run(harness, kind, body):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100])).say(kind, body)
    assert "sent a message the grader did not expect" in h.interfered


def test_oversized_bodies_are_cut_or_refused(harness):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100]))
    h.say(FromRunner.ERROR, STATEMENT.pack(0, 0, 3) + b"e" * 5000)
    h.say(FromRunner.LOADED, b"L" * ((1 << 20) + 10))
    h.say(FromRunner.ANSWER, answer(1, np.zeros(200)))  # 1,600 bytes: beyond the 1,000 all answers may take
    assert h.run.ended is None
    out = dict(h.out()[1:3])
    assert len(out[FromWorker.ERROR]) == STATEMENT.size + 600 and len(out[FromWorker.LOADED]) == 1 << 20
    [(kind, body)] = h.out()[3:]
    assert kind == FromWorker.OUTCOME and KEY.unpack_from(body)[0] == 1
    assert decode(body[KEY.size:], np)["status"] == "refused"
    h.say(FromRunner.ANSWER, answer(2))  # a smaller one still passes
    assert h.out()[-1] == (FromWorker.ANSWER, answer(2))


def test_a_frame_longer_than_a_runner_may_send_ends_the_run_before_it_is_read(harness):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100]))
    read, write = os.pipe()
    try:
        h.run.frames = Inbox(read, limit=MAX_RUNNER_FRAME)
        os.write(write, KEY.pack(MAX_RUNNER_FRAME + 2) + FromRunner.RESULT + b"x" * 1000)
        h.run.read_frames([h.run.frames])
        assert h.interfered.startswith("the submission interfered with the grader: it sent what is not a message")
    finally:
        os.close(read)
        os.close(write)


def test_only_a_runners_own_flags_pass_once_each(harness):
    h = harness()
    for text in (Flag.USED_NETWORK, Flag.USED_NETWORK, Flag.INTERFERED, Flag.LEFT_PROCESSES, "made up",
                 "imported grader\nand more"):
        h.say(FromRunner.FLAG, str.encode(text))
    assert h.submission.flags == [Flag.USED_NETWORK] and h.run.ended is None
    assert h.out() == [(FromWorker.FLAG, b"used the network")]


def test_notes_are_counted_and_passed_on_up_to_their_limit(harness):
    h = harness()
    for number in range(50):
        h.say(FromRunner.MISSING, b"package_%d" % number)
    assert len(h.out()) == 40 and h.run.ended is None


def test_frames_after_the_run_was_ended_are_not_read(harness):
    h = harness().say(FromRunner.ISOLATION, ENCODE({}, [100])).say(b"?", b"")
    read, write = os.pipe()
    try:
        h.run.frames = Inbox(read)
        os.write(write, frame(FromRunner.LOADED, ENCODE({}, [100])))
        h.run.read_frames([h.run.frames])
        assert h.run.phase == "loading" and FromWorker.LOADED not in dict(h.out())
    finally:
        os.close(read)
        os.close(write)


def test_the_fork_servers_word_on_the_runners_end_is_read_as_the_protocol_lays_it_out(harness):
    h = harness()
    h.fork_server.sendall(frame(FromForkServer.ENDED, STATUS.pack(-9) + COUNT.pack(2)))  # SIGKILL, 2 left
    h.submission.inbox.pump()
    (frames, frames_end), (output, output_end) = os.pipe(), os.pipe()
    os.close(frames_end)
    os.close(output_end)
    h.run.frames, h.run.output = Inbox(frames), output
    try:
        assert h.run.watch() == -9 and Flag.LEFT_PROCESSES in h.submission.flags
    finally:
        os.close(frames)
        os.close(output)
