"""Starting and ending the processes that run student code.

A submission's process is forked from a warm worker: a Python that has imported numpy once and
forks one supervisor per request (see `_child.serve`), so no submission pays for an interpreter
start, yet every submission still gets a fresh process of its own. Each grading thread has its
own worker; if a worker can't be had, a fresh interpreter is started instead, with the same
behaviour. Either way the result is a `Started` process with two pipes: JSON events, and the
student's printed output.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

# The program that runs student code: these files, in this order, as one script (it must not
# import the grader, so its parts are joined rather than imported).
CHILD_PARTS = ("_standins.py", "_child.py")
CHILD_SOURCE = "\n\n".join(Path(__file__).with_name(part).read_text(encoding="utf-8")
                           for part in CHILD_PARTS)

_live: set["Started"] = set()
_live_lock = threading.Lock()
_local = threading.local()
_idle: list["_Worker"] = []  # started ahead of need by prewarm(), taken by grading threads
_idle_lock = threading.Lock()


# Kept from the grader's environment: machine settings that numpy's BLAS needs to run right
# on some processors, not secrets.
_PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def environment(home: str) -> dict[str, str]:
    """The whole environment of a student's process: nothing of the grader's leaks in but the
    BLAS settings of this machine."""
    return {
        **{name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ},
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # One BLAS thread: the arrays are tiny, and many threads would strain the memory limit.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def prewarm(count: int) -> None:
    """Start `count` warm workers now, so that they load numpy while the grader gets ready."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        return
    for _ in range(count):
        try:
            worker = _Worker(environment("/"))
        except OSError:
            return
        with _idle_lock:
            _idle.append(worker)


class Started:
    """A student's supervisor process, however it was started."""

    def __init__(self, pid: int, event_read: int, output_read: int, waiter):
        self.pid, self.event_read, self.output_read = pid, event_read, output_read
        self._waiter, self._status = waiter, None

    def wait(self) -> int:
        """The exit status (negative for a signal), once the process has ended."""
        if self._status is None:
            self._status = self._waiter()
        return self._status

    def kill(self, wait: bool = True) -> None:
        kill_tree(self.pid)
        if wait:
            self.wait()

    def close(self) -> None:
        for fd in (self.event_read, self.output_read):
            try:
                os.close(fd)
            except OSError:
                pass


def start(job: str, cwd: str, env: dict[str, str]) -> Started:
    """Start a supervisor for `job` (its JSON text) in folder `cwd` with environment `env`."""
    event_read, event_write = os.pipe()
    output_read, output_write = os.pipe()
    try:
        with _live_lock:  # so that kill_all never misses a process being started
            started = _from_worker(job, cwd, env, event_write, output_write) \
                or _fresh(job, cwd, env, event_write, output_write)
            started.event_read, started.output_read = event_read, output_read
            _live.add(started)
    finally:
        os.close(event_write)
        os.close(output_write)
    return started


def forget(started: Started) -> None:
    with _live_lock:
        _live.discard(started)


def kill_all() -> None:
    """Kill every running submission at once (the grader is being interrupted)."""
    with _live_lock:
        for started in list(_live):
            started.kill(wait=False)


def _fresh(job, cwd, env, event_write, output_write) -> Started:
    process = subprocess.Popen(
        [sys.executable, "-I", "-c", CHILD_SOURCE, str(event_write)],
        stdin=subprocess.PIPE, stdout=output_write, stderr=output_write,
        pass_fds=(event_write,), cwd=cwd, env=env, start_new_session=True,
    )
    try:
        process.stdin.write(job.encode())
        process.stdin.close()
    except BrokenPipeError:
        pass
    return Started(process.pid, -1, -1, process.wait)


class _Worker:
    """A warm worker process and its control socket, owned by one grading thread."""

    def __init__(self, env: dict[str, str]):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", CHILD_SOURCE, "serve", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), env=env, cwd="/", start_new_session=True,
        )
        theirs.close()
        self.control = ours
        self.replies = ours.makefile("rb")

    def fork(self, job, cwd, env, event_write, output_write) -> Started:
        payload = f'{{"job": {job}, "cwd": {json.dumps(cwd)}, "env": {json.dumps(env)}}}'.encode()
        socket.send_fds(self.control, [len(payload).to_bytes(4, "big")], [event_write, output_write])
        self.control.sendall(payload)
        pid = json.loads(self._reply())["pid"]
        return Started(pid, -1, -1, lambda: json.loads(self._reply())["status"])

    def _reply(self) -> bytes:
        line = self.replies.readline()
        if not line:
            raise OSError("the warm worker has gone")
        return line

    def close(self) -> None:
        self.control.close()
        self.process.kill()
        self.process.wait()


def _from_worker(job, cwd, env, event_write, output_write) -> Started | None:
    """A process forked by this thread's warm worker, or None to fall back to a fresh one."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        return None
    worker = getattr(_local, "worker", None)
    if worker is None:
        with _idle_lock:
            worker = _local.worker = _idle.pop() if _idle else None
    for attempt in range(2):  # a worker that died is replaced once
        if worker is None:
            try:
                worker = _local.worker = _Worker(environment("/"))
            except OSError:
                return None
        try:
            return worker.fork(job, cwd, env, event_write, output_write)
        except (OSError, ValueError, KeyError):
            worker.close()
            worker = _local.worker = None
    return None


def kill_tree(root: int) -> None:
    """Kill a process and everything under it. Descendants are stopped first, so none can fork
    away while the others are killed; a runner that is PID 1 of its own namespace takes every
    process in it down with it."""
    for pid in descendants(root):
        _signal(pid, signal.SIGSTOP)
    for pid in [root, *descendants(root)]:
        _signal(pid, signal.SIGKILL)
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


def descendants(root: int) -> list[int]:
    """Every live process below `root`, parents before children, read from /proc."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            if child not in found:
                found.append(child)
                queue.append(child)
    return found
