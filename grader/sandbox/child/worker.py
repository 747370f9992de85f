"""The worker: one of the grader's --jobs, started once, serving one submission at a time.

Part of the program that runs student code. No student code ever runs in the worker, nor in
its fork server (see fork_server). The worker talks to the grader (ToWorker, FromWorker): it
receives a submission's job, drives the student's process through it, enforces every time
limit, checks each frame it gets against what it asked (the channel from the student's process
is untrusted input: a frame that is not the answer to the call asked ends the run, flagged),
and sends the grader one message of results.

Where the machine allows (root, or a kernel with unprivileged user namespaces) the worker makes
new mount, PID and network namespaces once (a user namespace too when not root), in which its
fork server is PID 1: nothing a runner starts outlives its submission, and nothing in it can see
or signal the grader. The answer key's copies and the home folders are hidden there once, every
other folder made read-only, and /tmp, /var/tmp and /dev/shm are private, size-capped and
emptied after each runner.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from .fork_server import Mode, Settings, fork_server
from .protocol import (
    COUNT,
    FORK_SERVER_FRAME,
    KEY,
    LOST_CHANNEL,
    RUNNER_FLAGS,
    STATEMENT,
    STATUS,
    Flag,
    FromForkServer,
    FromRunner,
    FromWorker,
    ToForkServer,
    ToRunner,
    ToWorker,
    plain_name,
)
from .standins import defer_submodules
from .system import (
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    PRELOAD_FOR_OTHER_USERS,
    Libc,
    landlock_abi,
    preload,
    syscall_filter,
)
from .wire import (
    MAX_ANSWERS,
    MAX_FRAME,
    MAX_RUNNER_FRAME,
    UNLIMITED,
    Encode,
    Frame,
    FrameReader,
    ProtocolError,
    decode,
    encoded_list,
    frame,
    make_encoder,
    reference,
)

# Python and numpy must start within this, whatever the timeout: it is not student time.
STARTUP_SECONDS = 30.0
# A call may take this many timeouts of wall time when other processes held the CPU it waited
# for (see Run.extended); its own time is still bounded by one timeout.
STOLEN_FACTOR = 4


class Inbox:
    """Frames from a socket or pipe, one at a time, none lost between reads. Reading never
    blocks: a stream found readable may have been read since, by another path."""

    def __init__(self, fd: int, limit: int = MAX_FRAME, read: Callable[[int], bytes] | None = None) -> None:
        self.fd, self.reader = fd, FrameReader(limit)
        self.frames: list[Frame] = []
        if read is None:
            os.set_blocking(fd, False)

            def read(size: int) -> bytes:
                return os.read(fd, size)
        self.read = read

    def fileno(self) -> int:
        return self.fd

    def pump(self) -> bool:
        """Read what is there; False at the end of the stream."""
        try:
            data = self.read(1 << 20)
        except BlockingIOError:  # nothing yet: still open
            return True
        except OSError:  # the other end reset: the end all the same
            return False
        if not data:
            return False
        self.frames += self.reader.feed(data)
        return True

    def next(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None at the end or after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.frames:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], wait)[0] or not self.pump():
                return None
        return self.frames.pop(0)


class ForkServerInbox(Inbox):
    """The fork server's frames: a frame that does not read is the sandbox's own failure
    (Fatal: the grader replaces this worker), never the submission's."""

    def pump(self) -> bool:
        try:
            return super().pump()
        except ProtocolError as exc:
            raise Fatal(f"the fork server sent what is not a message ({exc})") from None


def write_all(fd: int, data: bytes, timeout: float | None = 5.0) -> bool:
    """Write everything, unless the reader stops reading for `timeout` seconds."""
    view = memoryview(data)
    try:
        while view:
            if not select.select([], [fd], [], timeout)[1]:
                return False
            view = view[os.write(fd, view):]
    except OSError:
        return False
    return True


def serve(control_fd: int) -> None:
    """The worker's life: numpy and the modules students import loaded, and the runners'
    syscall filter built (while the grader is still getting ready), then settings from the
    grader, namespaces, the fork server, jobs."""
    libc = Libc()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the grader gone, the worker too
    import numpy as np

    preload()
    defer_submodules(np)
    linux = sys.platform.startswith("linux")
    seccomp_code, no_seccomp = syscall_filter() if linux else (None, "not Linux")
    control = Inbox(control_fd)
    first = control.next()
    if first is None or first[0] != ToWorker.SETTINGS:
        os._exit(0)
    settings = decode(first[1], np)
    mode = enter_namespaces(libc, settings)
    mode["identity"] = settings.get("identity", "own")
    mode["seccomp"] = seccomp_code is not None
    if no_seccomp:
        mode["unavailable"].append(f"no syscall filter: {no_seccomp}")
    if not mode["namespaces"]:  # where nothing can be hidden by mounts, Landlock confines files
        _without_namespaces(libc, settings, mode, linux)
    # No process of the same user may look inside (its memory, its descriptors): set only now,
    # as a process that is not dumpable may not write its own user namespace's maps.
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    server, inbox = start_fork_server(control_fd, settings, mode, seccomp_code, np)
    encode = make_encoder(np)
    write_all(control_fd, frame(FromWorker.READY, encode(mode, [UNLIMITED])), timeout=None)
    while True:
        job = read_job(control, np)
        if job is None:
            os._exit(0)  # the grader has gone
        frames = Submission(job, server, inbox, mode, settings, encode).run()
        write_all(control_fd, b"".join(frames), timeout=None)
        if settings.get("once"):
            os._exit(0)


def _without_namespaces(libc: Libc, settings: Settings, mode: Mode, linux: bool) -> None:
    """Where nothing can be hidden by mounts: Landlock's ABI in the mode (0: none), what it
    lacks said; and, for a runner of another user, what it could not read from the
    installation later, loaded now."""
    mode["landlock"] = landlock_abi(libc) if linux and settings.get("landlock", True) else 0
    if not mode["landlock"]:
        mode["unavailable"].append("no Landlock (Linux 5.13+ with Landlock enabled)" if settings.get(
            "landlock", True) else "no Landlock: BACKPROP_GRADER_LANDLOCK=0")
    elif mode["landlock"] < 6 and settings.get("identity") != "pool":
        mode["unavailable"].append(
            f"Landlock ABI {mode['landlock']} here: it can't refuse signals (Linux 6.12+), so a "
            "submission running as your user can signal the grader's processes and classmates' runners")
    if settings.get("uid") is not None:
        preload(PRELOAD_FOR_OTHER_USERS)


def start_fork_server(control_fd: int, settings: Settings, mode: Mode, seccomp_code: bytes | None,
                      np: ModuleType) -> tuple[socket.socket, Inbox]:
    """The fork server, forked now (before any job), its socket and what it says; what it hid
    and failed to set up, in the mode."""
    server, their_end = socket.socketpair()
    if os.fork() == 0:
        server.close()
        os.close(control_fd)
        fork_server(their_end, settings, mode, seccomp_code)
    their_end.close()
    # Its socket stays blocking for what the worker sends (descriptors): reads don't wait.
    inbox = ForkServerInbox(server.fileno(), limit=FORK_SERVER_FRAME,
                            read=lambda size: server.recv(size, socket.MSG_DONTWAIT))
    ready = inbox.next(STARTUP_SECONDS)
    if ready is None or ready[0] != FromForkServer.HIDDEN:
        mode["failures"].append("could not start the fork server")
    else:
        view = decode(ready[1], np)
        mode["hidden"] = list(view["hidden"])
        mode["failures"] += view["failures"]
        mode["notes"] += view["notes"]
    return server, inbox


def read_job(control: Inbox, np: ModuleType) -> dict[str, Any] | None:
    """One job's frames, up to its end: JOB the header, CALL each call (key, then its record)."""
    job: dict[str, Any] = {"calls": {}}
    while True:
        got = control.next()
        if got is None:
            return None
        kind, body = got
        if kind == ToWorker.JOB:
            job["header"] = decode(body, np)
        elif kind == ToWorker.CALL:
            job["calls"][KEY.unpack_from(body)[0]] = body[KEY.size:]
        elif kind == ToWorker.END_OF_JOB:
            return job


def enter_namespaces(libc: Libc, settings: Settings) -> Mode:
    """New mount, PID and network namespaces for this worker and all it forks, if the
    machine allows; a user namespace too when not root. The mode: what was made; `failures`,
    protections that should be here and could not be set up (every job then stops before any
    student code); `unavailable`, those this machine does not offer (said at the top of a run);
    `notes`, what is done another way."""
    mode: Mode = {"namespaces": False, "userns": False, "hidden": [], "failures": [], "unavailable": [],
            "notes": [], "landlock": 0}
    if not settings.get("namespaces"):
        mode["unavailable"].append("no namespaces: BACKPROP_GRADER_NAMESPACES=0")
        return mode
    if not sys.platform.startswith("linux"):
        mode["unavailable"].append("no namespaces: not Linux")
        return mode
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        if not settings.get("userns"):
            mode["unavailable"].append("no namespaces: user namespaces turned off (BACKPROP_GRADER_USERNS=0)")
            return mode
        flags |= CLONE_NEWUSER
    # Tried first in a throwaway child: a namespace half made can't be left again.
    probe = os.fork()
    if probe == 0:
        os._exit(0 if libc.unshare(flags) == 0 and (uid == 0 or map_user(uid, gid)) else 1)
    if os.waitstatus_to_exitcode(os.waitpid(probe, 0)[1]) != 0 or libc.unshare(flags) != 0:
        mode["unavailable"].append("no namespaces: the kernel refuses them here"
                                   + ("" if uid == 0 else " (no unprivileged user namespaces)"))
        return mode
    if uid != 0:
        if not map_user(uid, gid):
            mode["failures"].append("could not map the user namespace")
            return mode
        mode["userns"] = True
    mode["namespaces"] = True
    return mode


def map_user(uid: int, gid: int) -> bool:
    """In a new user namespace: the user (uid, gid outside) is root inside, nobody else is."""
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                           ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    except OSError:
        return False
    return True


class Fatal(Exception):
    """The sandbox itself failed before any student code ran (not the student's fault)."""


class Submission:
    """One job, run to the end: a runner forked, its cells loaded, the calls sent stage by
    stage, every frame checked; a runner that overruns its time or dies costs the statement or
    call it was in, and a fresh runner carries on with what is left. Returns the frames for the
    grader: the runner's that passed the checks, and the worker's own."""

    def __init__(self, job: dict[str, Any], server: socket.socket, inbox: Inbox, mode: Mode, settings: Settings,
                 encode: Encode) -> None:
        header = job["header"]
        self.header: dict[str, Any] = header
        self.calls: dict[int, bytes] = job["calls"]
        self.server, self.inbox = server, inbox
        self.mode, self.settings, self.encode = mode, settings, encode
        self.limits: dict[str, Any] = header["limits"]
        self.stages = [[(key, group) for key, group in stage] for stage in header["stages"]]
        self.group = {key: group for stage in self.stages for key, group in stage}
        self.answered: set[int] = set()
        # Cells to run a statement at a time: the statement to stop before (None: none).
        self.stop_at: dict[int, int | None] = {}
        self.out: list[bytes] = []  # frames for the grader
        self.output, self.output_total = bytearray(), 0
        self.flags: list[str] = []
        self.budget_end = time.monotonic() + self.limits["budget"]
        self.budget_credited = 0.0  # added to the budget for time other processes took (Run.extended)
        self.errors = self.notes = 0
        self.answer_bytes = 0  # of the answers passed on (see wire.MAX_ANSWERS)
        self.isolation_sent = False
        self.scratch: str | None = None
        self.held: frozenset[int] = frozenset()  # calls F holds: see prepare_calls

    def hide_for_job(self) -> None:
        """Ask F to hide this job's private folders, once: a batch shares them."""
        wanted = [p for p in self.header["plan"].get("hide", ()) if p not in self.mode["hidden"]
                  and p not in self.mode.setdefault("asked", [])]
        if not wanted:
            return
        self.mode["asked"] += wanted
        self.server.sendall(frame(ToForkServer.HIDE, "\n".join(wanted).encode()))
        got = self.inbox.next(STARTUP_SECONDS)
        if got is None or got[0] != FromForkServer.HIDDEN:
            raise Fatal("the fork server has gone")
        import numpy as np

        report = decode(got[1], np)
        self.mode["hidden"] += report["hidden"]
        self.mode["failures"] += report["failures"]  # this worker runs nothing from now on

    def prepare_calls(self) -> None:
        """Have F hold the first stage's calls decoded, unless it holds these already: a class
        shares them (a job of another class replaces them). Later stages are never held: their
        arguments hold answers. Sets `held`, the keys a stage may name instead of sending."""
        first = [key for key, _ in self.stages[0]] if self.stages else []
        held = self.mode.setdefault("prepared", {})
        body = encoded_list(self.calls[k] for k in first) if first else b""
        if len(body) >= FORK_SERVER_FRAME - 64:  # too large to hold: each runner is sent them
            first = []
        if first and not all(held.get(key) == self.calls.get(key) for key in first):
            held.clear()
            self.server.sendall(frame(ToForkServer.HOLD_CALLS, body))
            got = self.inbox.next(STARTUP_SECONDS)
            if got is None or got[0] != FromForkServer.HELD:
                raise Fatal("the fork server has gone")
            if COUNT.unpack_from(got[1])[0] == len(first):
                held.update((key, self.calls[key]) for key in first)
        self.held = frozenset(first) if first and held else frozenset()

    def record(self, kind: bytes, record: Any, prefix: bytes = b"") -> None:
        self.out.append(frame(kind, prefix + self.encode(record, [UNLIMITED])))

    def outcome(self, key: int, status: str, message: str, ran: bool = False) -> None:
        """The worker's own verdict on a call (WORKER_STATUSES): it is answered. `ran`: the
        call itself was running when it ran out of time or its process ended (else it was
        never made)."""
        self.answered.add(key)
        self.record(FromWorker.OUTCOME, {"status": status, "message": message, "ran": ran}, KEY.pack(key))

    def flag(self, text: str) -> None:
        if text not in self.flags:
            self.flags.append(text)
            self.out.append(frame(FromWorker.FLAG, text.encode()))

    def pending(self) -> list[int]:
        return [key for stage in self.stages for key, _ in stage if key not in self.answered]

    def run(self) -> list[bytes]:
        """The job run to its end: the frames for the grader, FromWorker.END last."""
        try:
            self.hide_for_job()
            if self.mode["failures"]:  # a protection missing that should be here: fail closed
                raise Fatal(self.mode["failures"][0])
            self.scratch = self.make_scratch()
            self.prepare_calls()
            statements = self.header["statements"]
            # Each call, each statement that overruns, and each cell that overruns when run whole.
            for _ in range(len(self.group) + 2 * statements + 2):
                if time.monotonic() >= self.budget_end or not Run(self).go():
                    break
            spent = time.monotonic() >= self.budget_end
            total = self.limits["timeout"] * self.limits["budget_timeouts"]
            for key in self.pending():
                if spent:
                    self.outcome(key, "timeout", f"not run: the submission's time ({total:g} s in all) ran out")
                else:
                    self.outcome(key, "crashed", "the process ended before this call was made")
        except Fatal as exc:
            self.out.append(frame(FromWorker.FAILED, str(exc).encode()))
        finally:
            self.remove_scratch()
        self.record(FromWorker.END, {"output": bytes(self.output), "output_total": self.output_total,
                           "hidden": list(self.mode["hidden"])})
        return self.out

    def make_scratch(self) -> str | None:
        """Without namespaces: a folder of the submission's own, where it may write."""
        if self.mode["namespaces"]:
            return None
        import tempfile

        # In this worker's own folder, which the grader made for it: no other runner can reach
        # it, nor a user's leftovers be taken for it (see remove_leftovers).
        scratch = tempfile.mkdtemp(prefix="job-", dir=self.settings.get("scratch"))
        if self.settings.get("uid") is not None:
            os.chown(scratch, self.settings["uid"], self.settings["gid"])
        return scratch

    def scratch_bytes(self) -> int:
        """What the submission wrote to its folder, on disk."""
        total = 0
        for root, _, files in os.walk(self.scratch or "/nonexistent"):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(root, name)).st_blocks * 512
        return total

    def remove_scratch(self) -> None:
        if self.scratch is None:
            return
        import shutil

        def writable_again(function: Callable[[str], Any], path: str, _: Any) -> None:
            try:
                os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
                function(path)
            except OSError:
                pass

        shutil.rmtree(self.scratch, onerror=writable_again)

    def plan(self) -> dict[str, Any]:
        """The runner's isolation, for this job on this worker."""
        home = self.scratch or "/tmp"
        plan = self.header["plan"]
        return {**plan, "env": {**plan.get("env", {}), "HOME": home, "TMPDIR": home},
                "namespaces": self.mode["namespaces"], "identity": self.mode["identity"],
                "userns": self.mode["userns"], "uid": self.settings.get("uid"),
                "gid": self.settings.get("gid"), "scratch": self.scratch,
                "processes": self.settings.get("processes"),
                "limits": {"memory_mb": self.limits["memory_mb"],
                           "cpu_seconds": STARTUP_SECONDS + self.limits["budget"]}}


class Run:
    """One runner's life, from the worker's side: what it may say next, and until when."""

    def __init__(self, submission: Submission) -> None:
        self.s = submission
        self.phase = "isolating"  # then loading, calls, done
        self.running_stmt: tuple[int, int, int] | None = None  # (cell, index, line) running now
        self.started_student = False
        self.stage = 0
        self.sent: list[int] = []  # keys of the stage sent, in order
        self.first_unanswered = 0  # in self.sent: those before it are answered
        self.deadline = min(time.monotonic() + STARTUP_SECONDS, submission.budget_end)
        # Until the student's code starts, the limit is the start-up's (see step for a call's).
        self.step_started, self.call_end = time.monotonic(), self.deadline
        self.waited: float | None = 0.0
        self.pid: int | None = None
        self.budget_waited = 0.0  # this runner's waits credited to the budget
        self.ended: str | None = None  # why the worker ended it: finished, timeout, crashed, interfered
        self.message = ""
        self.channel_closed = False
        self.status: int | None = None  # how the runner ended, as F said
        self.to_runner = -1  # the runner's channel from this worker, while it runs

    def go(self) -> bool:
        """Fork the runner and see it through; True if a fresh one must carry on."""
        s = self.s
        to_runner_read, self.to_runner = os.pipe()
        from_runner, from_runner_write = os.pipe()
        output, output_write = os.pipe()
        try:
            socket.send_fds(s.server, [frame(ToForkServer.FORK)], [to_runner_read, from_runner_write, output_write])
        finally:
            for fd in (to_runner_read, from_runner_write, output_write):
                os.close(fd)
        os.set_blocking(output, False)
        self.frames, self.output = Inbox(from_runner, limit=MAX_RUNNER_FRAME), output
        self.status = None
        try:
            got = s.inbox.next(STARTUP_SECONDS)
            if got is None or got[0] != FromForkServer.FORKED:
                raise Fatal("the fork server has gone")
            self.pid = COUNT.unpack_from(got[1])[0]  # as this worker's /proc names it (F's)
            self.tell(ToRunner.PROGRAM, s.header["program"])  # as the grader encoded it
            self.tell(ToRunner.PLAN, s.encode(
                {"plan": s.plan(), "stop_at": {str(k): v for k, v in s.stop_at.items()}}, [UNLIMITED]))
            return self.after(self.watch())
        finally:
            for fd in (self.to_runner, from_runner, output):
                os.close(fd)
            self.settle()

    def tell(self, kind: ToRunner, body: bytes = b"") -> None:
        write_all(self.to_runner, frame(kind, body))

    def settle(self) -> None:
        """However this run ended, the runner is gone before the next one starts: F's word."""
        if self.status is not None:
            return
        self.kill()
        while True:
            got = self.s.inbox.next(STARTUP_SECONDS)
            if got is None:
                os._exit(1)  # the fork server is stuck: the grader replaces this worker
            if got[0] == FromForkServer.ENDED:
                self.status = STATUS.unpack_from(got[1])[0]
                return

    def step(self) -> None:
        """The next limit starts now: its own timeout, within the whole budget."""
        now = time.monotonic()
        self.step_started, self.waited, self.call_end = now, None, now + self.s.limits["timeout"]
        self.deadline = min(self.call_end, self.s.budget_end)

    def waited_for_cpu(self) -> float | None:
        """Seconds the runner has waited, runnable, for a CPU other processes held, since it
        started (the kernel's schedstat), or None where the kernel does not say."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as handle:
                return int(handle.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError, TypeError):
            return None

    def checkpoint(self, now: float) -> None:
        """A quarter into a call that still runs: note how long its runner has waited for a
        CPU so far (quick calls, nearly all of them, never get here)."""
        if self.waited is None and self.ended is None and now >= self.step_started + self.s.limits["timeout"] / 4:
            self.waited = self.waited_for_cpu() or 0.0

    def extended(self) -> bool:
        """At a deadline: time the runner waited for a CPU that others held (a neighbour's
        spinning children, on a machine a class shares) is not its own. The call's limit
        moves by what it waited since its checkpoint, the submission's budget by all this
        runner waited, each up to STOLEN_FACTOR times itself. True if time is left."""
        waited = self.waited_for_cpu()
        if waited is None or self.phase == "done":
            return False
        s, timeout = self.s, self.s.limits["timeout"]
        budget_room = (STOLEN_FACTOR - 1) * s.limits["budget"] - s.budget_credited
        credit = max(0.0, min(waited - self.budget_waited, budget_room))
        s.budget_end, s.budget_credited, self.budget_waited = s.budget_end + credit, s.budget_credited + credit, waited
        if self.waited is not None:
            limit = self.step_started + STOLEN_FACTOR * timeout
            self.call_end = min(limit, self.step_started + timeout + max(0.0, waited - self.waited))
        self.deadline = min(self.call_end, s.budget_end)
        return self.deadline > time.monotonic()

    def watch(self) -> int:
        """Until the runner ends: its frames and output read and checked, its time kept; how
        it ended (see describe_exit)."""
        s = self.s
        streams: list[Any] = [self.frames, self.output, s.inbox]
        self.streams = streams
        while True:
            if s.inbox.frames:
                kind, body = s.inbox.frames.pop(0)
                if kind == FromForkServer.ENDED:
                    self.status = STATUS.unpack_from(body)[0]
                    if COUNT.unpack_from(body, STATUS.size)[0]:
                        s.flag(Flag.LEFT_PROCESSES)
                    self.drain(streams)
                    return self.status
                continue
            now = time.monotonic()
            self.checkpoint(now)
            if self.deadline - now <= 0 and self.ended is None and not self.extended():
                self.overran()
                self.kill()
            remaining = self.deadline - now
            if self.waited is None:  # wake at the checkpoint too
                remaining = min(remaining, self.step_started + self.s.limits["timeout"] / 4 - now)
            ready = select.select(streams, [], [], max(0.0, min(remaining, 1.0)) if self.ended is None else 1.0)[0]
            for stream in ready:
                if stream is s.inbox:
                    if not s.inbox.pump():
                        raise Fatal("the fork server has gone")
                elif stream is self.output:
                    self.read_output(streams)
                else:
                    self.read_frames(streams)

    def drain(self, streams: list[Any]) -> None:
        """What the runner wrote before it ended: F has ended every writer, so this ends."""
        pending = [stream for stream in (self.frames, self.output) if stream in streams]
        while pending:
            ready = select.select(pending, [], [], 1.0)[0]
            if not ready:
                return
            for stream in ready:
                (self.read_output if stream is self.output else self.read_frames)(streams)
            pending = [stream for stream in pending if stream in streams]

    def read_output(self, streams: list[Any]) -> None:
        s = self.s
        try:
            data = os.read(self.output, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            streams.remove(self.output)
            return
        s.output_total += len(data)
        room = s.limits["max_output"] - len(s.output)
        quiet_from = s.header.get("quiet_from")
        if room > 0 and (quiet_from is None or self.stage <= quiet_from):
            s.output += data[:room]  # (nothing once the calls given right answers are sent)
        if s.output_total > s.limits["max_output_total"] and self.ended is None:
            self.interfered(f"printed more than {s.limits['max_output_total'] // 2 ** 20} MB")

    def read_frames(self, streams: list[Any]) -> None:
        try:
            more = self.frames.pump()
        except ProtocolError as exc:
            return self.interfered(f"sent what is not a message ({exc})")
        except OSError:
            more = False
        if not more:
            streams.remove(self.frames)
            # Every copy of the channel closed (or pointed elsewhere) while the runner may live
            # on: whatever it does now, nothing more comes from it, and that is said.
            self.channel_closed = self.phase != "done"
            if self.channel_closed and self.s.inbox.frames == [] and not self.exited_soon():
                self.s.flag(Flag.SILENCED)
        while self.frames.frames and self.ended is None:
            self.check(*self.frames.frames.pop(0))

    def exited_soon(self) -> bool:
        """Whether the runner ended (F has said so within a moment): a runner that ends closes
        its channel too, and that is no silencing."""
        if select.select([self.s.inbox], [], [], 0.2)[0]:
            self.s.inbox.pump()
        return any(kind == FromForkServer.ENDED for kind, _ in self.s.inbox.frames)

    def check(self, kind: bytes, body: bytes) -> None:
        """One frame from the runner, against what it may say now (see _FRAMES): a kind this
        phase does not expect, or a body not of its kind's shape, ends the run, flagged."""
        expected = _FRAMES.get(kind)
        if expected is None or self.phase not in expected.phases or not expected.fits(body):
            return self.interfered(f"sent a message the grader did not expect ({kind!r} while {self.phase})")
        expected.take(self, kind, body)

    def failed(self, kind: bytes, body: bytes) -> None:
        """"could not ...": a protection could not be put in place, and no student code ran."""
        raise Fatal(body.decode("utf-8", "replace")[:300])

    def isolated(self, kind: bytes, body: bytes) -> None:
        """What is in force: passed on once a submission (every runner of it says the same)."""
        self.phase = "loading"
        if not self.s.isolation_sent:
            self.s.isolation_sent = True
            self.s.out.append(frame(kind, body))

    def announced(self, kind: bytes, body: bytes) -> None:
        """A cell about to run whole, or a statement: after the one before it, never again."""
        cell, index, line = STATEMENT.unpack(body)
        if kind == FromRunner.CELL:  # a whole cell: index -1, before any statement of it
            if (self.running_stmt is not None and cell <= self.running_stmt[0]) or cell in self.s.stop_at:
                return self.interfered("announced a cell out of order")
            index, line = -1, 0
        elif self.running_stmt is not None and (cell, index) <= self.running_stmt[:2]:
            return self.interfered("announced a statement out of order")
        self.running_stmt = (cell, index, line)
        if not self.started_student:  # loading all the cells shares one limit
            self.started_student = True
            self.step()

    def errored(self, kind: bytes, body: bytes) -> None:
        """A top-level error: passed on, its text cut, up to 1000 of them."""
        self.s.errors += 1
        if self.s.errors <= 1000:
            self.s.out.append(frame(kind, body[:STATEMENT.size + 600]))

    def noted(self, kind: bytes, body: bytes) -> None:
        """A package missing here, or a stand-in served: up to 40 names in all."""
        self.s.notes += 1
        if self.s.notes <= 40:
            self.s.out.append(frame(kind, body))

    def flagged(self, kind: bytes, body: bytes) -> None:
        """A flag the runner may raise, passed on once; any other text is dropped."""
        text = body.decode("utf-8", "replace")
        if text in RUNNER_FLAGS:
            self.s.flag(text)

    def loaded(self, kind: bytes, body: bytes) -> None:
        """The cells have run: the calls start."""
        self.phase, self.running_stmt = "calls", None
        self.s.out.append(frame(kind, body[:1 << 20]))
        self.next_stage()

    def answered(self, kind: bytes, body: bytes) -> None:
        """The answer to the call running now, and no other; kept within the answers' budget."""
        s = self.s
        key = KEY.unpack_from(body)[0]
        if key != self.running_call():
            return self.interfered("answered a call that was not asked, or twice")
        allowed = s.limits.get("max_answers", MAX_ANSWERS)
        if s.answer_bytes + len(body) > allowed:  # this one is refused; a smaller one may pass
            s.outcome(key, "refused", f"not kept: with it, your answers would take more than "
                                      f"the {allowed:,} bytes all of a submission's answers may take")
        else:
            s.answer_bytes += len(body)
            s.answered.add(key)
            s.out.append(frame(kind, body))
        self.step()
        if self.running_call() is None:
            self.next_stage()

    def next_stage(self) -> None:
        """Send the next stage's calls still pending, or say there are none."""
        s = self.s
        if s.scratch is not None and s.scratch_bytes() > s.limits["disk_mb"] * 2 ** 20:
            return self.interfered(f"wrote more than {s.limits['disk_mb']} MB to disk")
        while self.stage < len(s.stages):
            keys = [key for key, _ in s.stages[self.stage] if key not in s.answered]
            if keys and self.stage == s.header.get("quiet_from"):
                self.read_pending_output()  # printed before: kept (the runner flushed it first)
            self.stage += 1
            if keys:
                self.sent, self.first_unanswered = keys, 0
                self.step()
                self.tell(ToRunner.STAGE, encoded_list(reference(k) if k in s.held else s.calls[k] for k in keys))
                return
        self.phase = "done"
        self.deadline = min(time.monotonic() + STARTUP_SECONDS, s.budget_end)  # to exit
        self.tell(ToRunner.NO_MORE)

    def read_pending_output(self) -> None:
        """Everything in the output pipe now, read."""
        while self.output in self.streams and select.select([self.output], [], [], 0)[0]:
            before = self.s.output_total
            self.read_output(self.streams)
            if self.s.output_total == before:
                return

    def running_call(self) -> int | None:
        if self.phase != "calls":
            return None
        while self.first_unanswered < len(self.sent) and self.sent[self.first_unanswered] in self.s.answered:
            self.first_unanswered += 1  # answers come in order: each key is passed once
        return self.sent[self.first_unanswered] if self.first_unanswered < len(self.sent) else None

    def overran(self) -> None:
        if self.phase == "done":
            self.ended = "finished"  # every call answered: what still runs (atexit...) is ignored
        elif self.running_call() is not None or (self.phase == "loading" and self.started_student):
            self.ended, self.message = "timeout", f"ran for more than {self.s.limits['timeout']:g} s"
        else:
            self.ended, self.message = "crashed", "did not start in time"

    def interfered(self, what: str) -> None:
        self.s.flag(Flag.INTERFERED)
        self.ended, self.message = "interfered", f"the submission interfered with the grader: it {what}"
        self.kill()

    def kill(self) -> None:
        self.s.server.sendall(frame(ToForkServer.KILL))

    def after(self, status: int) -> bool:
        """What the runner's end means; True if a fresh runner must carry on."""
        s = self.s
        if self.ended == "finished" or (self.ended is None and self.phase == "done"):
            return False
        if self.ended is None:  # it died on its own before it was done
            self.ended, self.message = "crashed", describe_exit(status)
            if status == LOST_CHANNEL:  # its code closed or redirected the runner's channel
                s.flag(Flag.SILENCED)
                self.message = "closed or redirected its channel to the grader"
        if self.ended == "interfered":
            for key in s.pending():
                s.outcome(key, "crashed", f"not run: {self.message}")
            return False
        call = self.running_call()
        if call is not None:
            s.outcome(call, self.ended, self.message, ran=True)
            phrase = {"timeout": "ran out of time", "crashed": "ended the process"}[self.ended]
            for other in s.pending():
                if s.group[other] == s.group[call]:
                    s.outcome(other, self.ended, f"not run: an earlier case {phrase}")
            return bool(s.pending())
        if self.phase == "loading" and self.running_stmt is not None:
            cell, index, line = self.running_stmt
            if index < 0:  # a whole cell: run it again a statement at a time, to find which
                s.stop_at[cell] = None
                return True
            s.stop_at[cell] = index
            s.record(FromWorker.OVERRAN, {"cell": cell, "line": line, "message": self.message, "kind": self.ended})
            return True
        if self.phase in ("isolating", "loading") and time.monotonic() < s.budget_end:
            raise Fatal(f"the sandboxed process {self.message} before running any student code")
        return False  # (a fresh runner that the submission's spent budget stopped: not the sandbox's fault)


class _Expected:
    """A kind of frame a runner may send: in which phases, with a body of what shape, and what
    the worker does with it (a method of Run)."""

    __slots__ = ("fits", "phases", "take")

    def __init__(self, phases: Iterable[str], fits: Callable[[bytes], bool],
                 take: Callable[[Run, bytes, bytes], None]) -> None:
        self.phases, self.fits, self.take = frozenset(phases), fits, take


_ANY_PHASE = ("isolating", "loading", "calls", "done")


def _any(body: bytes) -> bool:
    return True


def _a_statement(body: bytes) -> bool:
    return len(body) == STATEMENT.size


def _an_error(body: bytes) -> bool:
    return len(body) >= STATEMENT.size


def _a_name(body: bytes) -> bool:
    return body.isascii() and plain_name(body.decode("ascii"))


def _a_key(body: bytes) -> bool:
    return len(body) >= KEY.size


# What a runner may say, and when (FromRunner: isolating, then loading its cells, then the
# calls, then done); anything else ends it.
_FRAMES: dict[bytes, _Expected] = {
    FromRunner.FAILED: _Expected(("isolating",), _any, Run.failed),
    FromRunner.ISOLATION: _Expected(("isolating",), _any, Run.isolated),
    FromRunner.CELL: _Expected(("loading",), _a_statement, Run.announced),
    FromRunner.STATEMENT: _Expected(("loading",), _a_statement, Run.announced),
    FromRunner.ERROR: _Expected(("loading",), _an_error, Run.errored),
    FromRunner.MISSING: _Expected(_ANY_PHASE, _a_name, Run.noted),
    FromRunner.STANDIN: _Expected(_ANY_PHASE, _a_name, Run.noted),
    FromRunner.FLAG: _Expected(_ANY_PHASE, _any, Run.flagged),
    FromRunner.LOADED: _Expected(("loading",), _any, Run.loaded),
    FromRunner.RESULT: _Expected(("calls",), _a_key, Run.answered),
    FromRunner.ANSWER: _Expected(("calls",), _a_key, Run.answered),
}


def describe_exit(status: int) -> str:
    """How a process ended, from its wait status (minus a signal's number, or an exit code)."""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"ended the process with exit code {status}"
