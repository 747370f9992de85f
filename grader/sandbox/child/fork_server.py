"""The fork server (F): forked by the worker before it reads any job, so that its memory holds
nothing of any submission. It sets up once what the runners see of the files, then on the
worker's request (ToForkServer) hides more folders, holds a class's first-stage calls, forks
each runner (see runner) and reports how the runner ended from the kernel's wait status, never
from anything the runner said (FromForkServer), then ends every process the runner left.

Where the worker made namespaces, F is PID 1 of the PID namespace: when a runner ends, F kills
everything else in it, so nothing outlives its submission. It never runs student code itself.

Part of the program that runs student code; standard library and numpy only.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import time
from typing import Any

from .protocol import COUNT, FORK_SERVER_FRAME, STATUS, FromForkServer, ToForkServer
from .runner import Prepared, runner_main
from .system import (
    DEVICES,
    LL_READ,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    SHARED_TEMPORARY,
    Libc,
    cover,
    drop_bounding_set,
    hide,
    installation_paths,
    kill_as,
    kill_descendants,
    landlock_handled,
    landlock_rules,
    landlock_ruleset,
    minimal_dev,
    mount,
    process_tree,
    read_only_everywhere,
    reap_all,
    remove_leftovers,
    wipe,
    world_writable_folders,
)
from .wire import Encode, FrameReader, ProtocolError, frame, make_encoder

# What the fork server's report of its view may take (every hidden path in it): generous, as
# its failure to encode would stop every runner of the worker.
REPORT_BUDGET = FORK_SERVER_FRAME - 64

Settings = dict[str, Any]  # what the grader told the worker (see workers.settings)
Mode = dict[str, Any]  # what the worker has in force (see worker.enter_namespaces)
# A runner exits with this when its own code failed: a sandbox error, not the student's.
RUNNER_FAILED = 70


def fork_server(sock: socket.socket, settings: Settings, mode: Mode, seccomp_code: bytes | None) -> None:
    """F: set up the runners' view of the files once (with namespaces: a private /proc and a
    minimal /dev; private, size-capped /tmp, /var/tmp and /dev/shm; the answer key's copies and
    the home folders hidden; every other folder read-only. Without: a Landlock ruleset that
    leaves the same out of reach), then serve the worker's requests until it goes. It never
    reads a job. A step that fails is reported as a failure: the worker then runs no student
    code at all."""
    libc = Libc()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # PID 1 of its namespace takes no signal it has no handler for: Python's for SIGINT
    # would let a runner of the same user end it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import numpy as np

    encode = make_encoder(np)
    view = FileView(libc, settings, mode)
    sock.sendall(frame(FromForkServer.HIDDEN, encode(view.setup(), [REPORT_BUDGET])))
    if mode["namespaces"]:  # each runner's environment (see Submission.plan), set once here
        os.environ.update(HOME="/tmp", TMPDIR="/tmp")
    prepared = Prepared(np, seccomp_code)
    prepared.landlock, prepared.bounded = view.ruleset, view.bounded
    prepared.landlock_abi = mode.get("landlock", 0)
    gc.collect()
    gc.freeze()  # the runners share these pages: no collection writes to them after a fork
    ForkServer(sock, settings, mode, view, prepared, encode).serve()


class ForkServer:
    """F's requests, served one at a time until the worker goes (its socket closes)."""

    def __init__(self, sock: socket.socket, settings: Settings, mode: Mode, view: FileView, prepared: Prepared,
                 encode: Encode) -> None:
        self.sock, self.settings, self.mode, self.view = sock, settings, mode, view
        self.prepared, self.encode = prepared, encode
        self.requests = Requests(sock)

    def serve(self) -> None:
        while True:
            kind, body, fds = self.requests.next()
            if kind == ToForkServer.HIDE:  # a job's private folders, hidden from now on
                self.hide([p for p in body.decode().split("\n") if p])
            elif kind == ToForkServer.HOLD_CALLS:  # decoded here once, not in each runner
                self.hold_calls(body)
            elif kind == ToForkServer.FORK and len(fds) == 3:
                self.fork(fds)
            else:
                for fd in fds:
                    os.close(fd)
                # a kill that came too late (or anything else): nothing runs

    def hide(self, paths: list[str]) -> None:
        report = self.view.hide_more(paths)
        self.prepared.landlock = self.view.ruleset
        self.sock.sendall(frame(FromForkServer.HIDDEN, self.encode(report, [REPORT_BUDGET])))

    def hold_calls(self, body: bytes) -> None:
        """The class's first-stage calls: decoded once, every runner's from now on."""
        import numpy as np

        try:
            count = self.prepared.prepare_calls(body, np)
        except ProtocolError:
            self.prepared.calls, count = {}, 0
        gc.collect()
        gc.freeze()
        self.sock.sendall(frame(FromForkServer.HELD, COUNT.pack(count)))

    def fork(self, fds: list[int]) -> None:
        """A runner on these three descriptors, seen through to its end and all it left."""
        runner = os.fork()
        if runner == 0:
            self.sock.close()
            try:
                runner_main(fds[0], fds[1], fds[2], self.prepared)
            finally:
                os._exit(RUNNER_FAILED)
        for fd in fds:
            os.close(fd)
        self.sock.sendall(frame(FromForkServer.FORKED, COUNT.pack(runner)))
        status = await_runner(self.requests, runner)
        left = end_everything_else(self.mode, self.settings)
        if self.mode["namespaces"]:
            wipe(SHARED_TEMPORARY)
        self.sock.sendall(frame(FromForkServer.ENDED, STATUS.pack(status) + COUNT.pack(len(left))))


class FileView:
    """What the runners see of the files, set up by F: with namespaces, mounts; without, a
    Landlock ruleset (where the kernel has Landlock) that each runner confines itself with.
    Each report says what is hidden, what failed (the worker then runs nothing) and notes."""

    def __init__(self, libc: Libc, settings: Settings, mode: Mode) -> None:
        self.libc, self.settings, self.mode = libc, settings, mode
        protected = set(settings.get("hide", ()))
        # The installation stays visible, but not a copy of the grader's own source that is
        # on the import path (a checkout run in place, an editable install): that is hidden.
        self.keep = [k for k in installation_paths() if k not in protected]
        self.hidden: list[str] = []
        self.ruleset: int | None = None
        self.bounded = False

    def setup(self) -> dict[str, list[str]]:
        failures: list[str] = []
        notes: list[str] = []
        # No capability can be gained again by any runner, through an execve or otherwise: the
        # bounding set emptied here, once, is every runner's (the runner drops what it holds).
        if self.mode["identity"] != "own" or self.mode["userns"]:
            try:
                drop_bounding_set(self.libc)
                self.bounded = True
            except OSError as exc:
                failures.append(f"could not drop the capabilities' bounding set: {exc}")
        if self.mode["namespaces"]:
            try:
                notes += self.mount_view()
            except OSError as exc:
                failures.append(f"could not set up the sandbox's view of the files: {exc}")
        else:
            self.libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans come back here to be ended
            failures += self.confine([*self.settings.get("hide", ()), *self.settings.get("private", ())])
            # Where a user of the grader's own may leave things (/run/lock, say), found once.
            self.mode["writable_places"] = [*SHARED_TEMPORARY, *world_writable_folders()] \
                if self.settings.get("uid") is not None and not self.mode.get("landlock") else list(SHARED_TEMPORARY)
        return {"hidden": self.hidden, "failures": failures, "notes": notes}

    def mount_view(self) -> list[str]:
        libc, keep = self.libc, self.keep
        mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
        try:  # first: the mounts made below stay writable
            read_only_everywhere(libc)
            read_only = True
        except OSError:  # an older kernel: world-writable folders are covered one by one below
            read_only = False
        mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        minimal_dev(libc)
        for shared in SHARED_TEMPORARY:
            if os.path.isdir(shared):
                cover(libc, os.path.realpath(shared), keep, writable=True,
                      size=f"{self.settings.get('disk_mb', 64)}m")
        self.hidden = hide(libc, [*self.settings.get("hide", ()), *self.settings.get("private", ())], keep)
        for folder in [] if read_only else world_writable_folders():
            if folder not in keep and os.path.isdir(folder):
                cover(libc, folder, keep, writable=False)
        return [] if read_only else ["the kernel can't make every folder read-only at once "
                                     "(Linux 5.12+): only the world-writable ones are"]

    def confine(self, paths: list[str]) -> list[str]:
        """Without namespaces: a Landlock ruleset hiding `paths` (and every path hidden
        before), the runner's own folder its only writable place, and no terminal."""
        abi = self.mode.get("landlock", 0)
        if not abi:
            return []
        hidden = sorted({*self.hidden, *(os.path.realpath(p) for p in paths if os.path.lexists(p)), "/dev"})
        scratch = self.settings.get("scratch")
        special = {**DEVICES, **{k: LL_READ for k in self.keep}}
        if scratch:
            special[scratch] = landlock_handled(abi)
        try:
            ruleset = landlock_ruleset(self.libc, abi, landlock_rules(hidden, special, self.keep))
        except OSError as exc:
            return [f"could not confine file access with Landlock: {exc}"]
        if self.ruleset is not None:
            os.close(self.ruleset)
        self.ruleset, self.hidden = ruleset, [p for p in hidden if p != "/dev"]
        return []

    def hide_more(self, paths: list[str]) -> dict[str, list[str]]:
        """A job's private folders, hidden from now on (a class shares them)."""
        before = set(self.hidden)
        failures: list[str] = []
        if self.mode["namespaces"]:
            try:
                self.hidden += hide(self.libc, paths, self.keep)
            except OSError as exc:
                failures.append(f"could not hide {', '.join(paths)}: {exc}")
        else:
            failures = self.confine(paths)
        return {"hidden": [p for p in self.hidden if p not in before], "failures": failures, "notes": []}


class Requests:
    """The worker's requests to F, framed (ToForkServer): folders to hide, calls to hold, a fork
    (its three descriptors come with it), a kill. Descriptors are kept in the order they came,
    for the forks."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.reader = sock, FrameReader(FORK_SERVER_FRAME)
        self.frames: list[tuple[bytes, bytes]] = []
        self.fds: list[int] = []

    def pump(self) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 3)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)  # the worker has gone
        self.fds += fds
        self.frames += self.reader.feed(data)

    def next(self) -> tuple[bytes, bytes, list[int]]:
        while not self.frames:
            self.pump()
        kind, body = self.frames.pop(0)
        if kind == ToForkServer.FORK:
            fds, self.fds = self.fds[:3], self.fds[3:]
            return kind, body, fds
        return kind, body, []


def await_runner(requests: Requests, runner: int) -> int:
    """Wait for the runner to end, killing it when the worker says so; its exit code, or
    minus the number of the signal that ended it."""
    try:
        pidfd = os.pidfd_open(runner)
    except (AttributeError, OSError):  # not Linux: poll
        pidfd = None
    try:
        while True:
            ready = select.select([requests.sock] + ([pidfd] if pidfd is not None else []), [], [],
                                  None if pidfd is not None else 0.02)[0]
            if requests.sock in ready:
                requests.pump()
            if any(kind == ToForkServer.KILL for kind, _ in requests.frames):
                requests.frames = [f for f in requests.frames if f[0] != ToForkServer.KILL]
                for kill in (os.killpg, os.kill):
                    with contextlib.suppress(OSError):
                        kill(runner, signal.SIGKILL)
            pid, status = os.waitpid(runner, os.WNOHANG)
            if pid == runner:
                return os.waitstatus_to_exitcode(status)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def end_everything_else(mode: Mode, settings: Settings) -> set[int]:
    """Every process the runner left, ended and collected."""
    left: set[int] = set()
    if mode["namespaces"]:  # F is PID 1: everything else in the namespace is the runner's
        if not _has_children():  # and what is left anywhere in it is F's child, or below one
            return left
        for _ in range(100):
            others = {p for children in process_tree().values() for p in children} - {os.getpid()}
            if not others:
                break
            left |= others
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)
            time.sleep(0.001)
            reap_all()
    else:
        left = kill_descendants(os.getpid())
        if settings.get("uid") is not None:  # and those that left the tree, by their user
            kill_as(settings["uid"], settings["gid"])
            remove_leftovers(settings["uid"], mode["writable_places"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.001)
        except ChildProcessError:
            break
    return left


def _has_children() -> bool:
    """Whether this process has a child, ended or not (none is collected here): one system
    call, where reading /proc takes dozens."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


