"""The worker processes that run student code: --jobs of them, shared by the grader's threads.

A worker (see `child/worker.py`) is a Python that imported numpy once, made its namespaces once and
forks a fresh, isolated process per submission from a fork server that never held any
submission: no submission pays for an interpreter start, yet each still gets a new process
with nothing of another's in its memory. The grader sends a worker one job and reads one
message back; a worker that does not answer in time is killed with everything under it and
replaced. `BACKPROP_GRADER_WARM=0` starts a fresh worker for every submission instead.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.sandbox.child import wire as _wire
from grader.sandbox.child.protocol import FromWorker, ToWorker

# The program that runs student code, loaded by each worker as a package of its own under a
# private name: not `grader.sandbox.child`, which would import the grader's package (hidden from
# the worker, and all of the grader besides), nor a name a student's module could have.
CHILD_FOLDER = str(Path(__file__).with_name("child"))
CHILD_PACKAGE = "_grader_sandbox_child"


def child_boot(write_bytecode: bool = True, folder: str = CHILD_FOLDER) -> str:
    """How a worker starts: a script that loads `folder` as the package CHILD_PACKAGE (its
    modules import each other, and nothing else of the grader's: nothing is added to the import
    path, so the package's own folder is the only place its imports look) and runs its
    `__main__.main` on the arguments. Each module loads from Python's own bytecode cache
    (__pycache__, checked against the source's time and size, exactly as any import of the
    grader's modules): compiled afresh, the 2,500 lines took 40 ms of every worker's start, on
    the way of a one-file grade, and left megabytes of the compiler's garbage in the memory each
    runner's fork copies. A missing cache is written only if `write_bytecode`: a worker runs
    with -I, which ignores PYTHONDONTWRITEBYTECODE, so it is told what the grader itself was
    told."""
    init = str(Path(folder) / "__init__.py")
    return ("import sys\n"
            f"sys.dont_write_bytecode = {not write_bytecode!r}\n"
            "from importlib.util import module_from_spec, spec_from_file_location\n"
            f"_spec = spec_from_file_location({CHILD_PACKAGE!r}, {init!r}, submodule_search_locations=[{folder!r}])\n"
            "_package = module_from_spec(_spec)\n"
            f"sys.modules[{CHILD_PACKAGE!r}] = _package\n"
            "_spec.loader.exec_module(_package)\n"
            f"from {CHILD_PACKAGE}.__main__ import main\n"
            "main(sys.argv[1:])\n")


_live: set[Worker] = set()
_live_lock = threading.Lock()
_idle: list[Worker] = []  # workers not running a job now: taken by grading threads, given back
_slots_free: threading.BoundedSemaphore | None = None  # set by limit()
_idle_lock = threading.Lock()
# Set once the grader is being interrupted: a job whose worker was killed is not run again on
# another (it would wait out its time limit before the grader could stop).
_stopping = threading.Event()
_slots = itertools.count()

# Kept from the grader's environment: machine settings that numpy's BLAS needs to run right
# on some processors, not secrets.
_PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# Users of the grader's own, one per worker, for student code when the grader is root: far
# above any real account, and apart for two graders running at once.
_POOL_BASE = 2_000_000_000 + (os.getpid() % 100_000) * 64


class WorkerError(Exception):
    """The worker failed or did not answer in time (not the submission's fault)."""


def environment() -> dict[str, str]:
    """The whole environment of a student's process: nothing of the grader's leaks in but the
    BLAS settings of this machine. HOME and TMPDIR are its private /tmp (or scratch folder)."""
    return {
        **{name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ},
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # One BLAS thread: the arrays are tiny, and many threads would strain the memory limit.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def namespaces() -> dict[str, str]:
    """The grader's own namespaces, as the kernel names them: a runner compares its own with
    these to say which it has apart (--sandbox-info reads back what is in effect)."""
    found = {}
    for name in ("ipc", "mnt", "pid", "net", "user"):
        with contextlib.suppress(OSError):
            found[name] = os.readlink(f"/proc/self/ns/{name}")
    return found


def homes() -> list[str]:
    """Where people keep their files: hidden from every submission."""
    return sorted({str(Path.home()), "/root", "/home"})


def _process_count(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def mapped(ids: range, map_file: str) -> bool:
    """Whether every id in `ids` exists in this user namespace (its /proc/self/uid_map or
    gid_map): outside Linux, or without the file, ids are what they say."""
    try:
        with open(map_file, encoding="ascii") as table:
            rows = [line.split() for line in table]
    except OSError:
        return True
    for row in rows:
        try:
            inside, _, count = (int(field) for field in row)
        except ValueError:
            continue
        if inside <= ids.start and ids.stop <= inside + count:
            return True
    return False


def identity() -> str:
    """Who student code runs as: `pool`, a user of the grader's own (the grader is root, and
    its user namespace has those users); `no-capabilities`, the grader's root with every
    capability dropped (root of a user namespace that maps no user for the sandbox: rootless
    Podman or Docker, userns-remap, `unshare --user --map-root-user`); `own`, the grader's own
    user (the worker adds a user namespace of its own where the kernel allows)."""
    if os.geteuid() != 0:
        return "own"
    pool = range(_POOL_BASE, _POOL_BASE + 64)
    if mapped(pool, "/proc/self/uid_map") and mapped(pool, "/proc/self/gid_map"):
        return "pool"
    return "no-capabilities"


_scratch_root: list[str] = []
_scratch_lock = threading.Lock()


def scratch_folder(slot: int) -> tuple[str, str]:
    """Where a worker's runners may write when no namespace gives them a private /tmp: a
    folder of its own inside one the grader made for its workers (hidden from every runner
    but through its own worker's folder), and that folder. Made once, removed at the end."""
    import tempfile

    with _scratch_lock:
        if not _scratch_root:
            root = tempfile.mkdtemp(prefix="backprop-grader-")
            os.chmod(root, 0o711)  # a pool user passes through to its job's folder, no further
            _scratch_root.append(root)
            import atexit

            atexit.register(remove_scratch)  # (the grade command ends without atexit: see entry)
    folder = os.path.join(_scratch_root[0], f"worker-{slot}")
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o711)
    return folder, _scratch_root[0]


def remove_scratch() -> None:
    """The workers' folders, removed (they are empty but for a job cut short)."""
    import shutil

    with _scratch_lock:
        for root in _scratch_root:
            shutil.rmtree(root, ignore_errors=True)
        _scratch_root.clear()


def settings(hide: tuple[str, ...], once: bool = False) -> dict:
    """What a new worker is told: whether to make namespaces, the user student code runs as,
    the folders hidden for good, and a cap on processes where the user is the grader's own."""
    who = identity()
    slot = next(_slots)
    uid = _POOL_BASE + slot % 64 if who == "pool" else None
    scratch, scratch_root = scratch_folder(slot)
    return {
        "namespaces": os.environ.get("BACKPROP_GRADER_NAMESPACES") != "0",
        "userns": os.environ.get("BACKPROP_GRADER_USERNS") != "0",
        # As a machine without Landlock is (a kernel before 5.13, or one that leaves it out).
        "landlock": os.environ.get("BACKPROP_GRADER_LANDLOCK") != "0",
        "identity": who, "uid": uid, "gid": uid,
        # A pool user owns no other process; the grader's own user does: leave it room.
        "processes": 64 if who == "pool" else _process_count(os.geteuid()) + 256,
        "hide": sorted({*homes(), *hide}),
        # Without namespaces: the one place its runners may write, and the folder of every
        # worker's such place (hidden, but for its own).
        "scratch": scratch, "private": [scratch_root],
        "disk_mb": 64,  # the size of each private temporary folder, wiped after each submission
        "once": once,
    }


def _not_dumpable() -> None:
    """No process of the grader's own user may look inside the grader (its memory, its
    environment, its descriptors) through /proc: where student code runs as that user (no
    user namespaces), what else would stop it is Landlock's, and a kernel may lack that."""
    if sys.platform.startswith("linux") and not _dumpable_set:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
        _dumpable_set.append(True)


_dumpable_set: list[bool] = []


_spawner: list[tuple[threading.Thread, Any]] = []
_spawner_lock = threading.Lock()


def _started_by_a_lasting_thread(start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
    """`start()` run on a thread that lives as long as the grader: a worker dies with its
    parent (PR_SET_PDEATHSIG), and Linux takes the parent to be the *thread* that forked it,
    so a worker a batch's grading thread started would die when that thread ended, and sit in
    the idle pool dead."""
    import queue

    if threading.current_thread() is threading.main_thread():
        return start()  # the main thread lasts as long as the grader
    with _spawner_lock:
        if not _spawner:
            requests: queue.Queue = queue.Queue()

            def serve() -> None:
                while True:
                    job, answer = requests.get()
                    try:
                        answer.put((job(), None))
                    except BaseException as exc:  # handed back to the caller, whatever it is
                        answer.put((None, exc))

            thread = threading.Thread(target=serve, name="worker-spawner", daemon=True)
            thread.start()
            _spawner.append((thread, requests))
        requests = _spawner[0][1]
    answer: queue.Queue = queue.Queue(maxsize=1)
    requests.put((start, answer))
    process, error = answer.get()
    if error is not None:
        raise error
    return process


class Worker:
    """A worker process, its socket, and what it said it has in force. A worker starts loading
    numpy as soon as it exists; it is told its settings (`configure`) when the grader knows
    them, so that its start overlaps the grader's own."""

    def __init__(self, hide: tuple[str, ...] | None = None, once: bool = False) -> None:
        _not_dumpable()
        ours, theirs = socket.socketpair()
        try:
            self.process = _started_by_a_lasting_thread(lambda: subprocess.Popen(
                [sys.executable, "-I", "-c", child_boot(write_bytecode=not sys.dont_write_bytecode),
                 "serve", str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), env=environment(), cwd="/", start_new_session=True,
            ))
        finally:
            theirs.close()
        self.socket = ours
        self.key: tuple | None = None  # what it was made for (see worker_key): None until told
        self.reader = _wire.FrameReader()
        self.frames: list[tuple[bytes, bytes]] = []
        self.mode: dict | None = None
        with _live_lock:
            _live.add(self)
        if hide is not None:
            self.configure(hide, once)

    def configure(self, hide: tuple[str, ...], once: bool = False) -> None:
        """Tell the worker what it is for: it makes its namespaces and fork server then."""
        self.key = worker_key(hide)
        self.socket.sendall(_wire.frame(ToWorker.SETTINGS, _encode(settings(hide, once))))

    def _next(self, deadline: float) -> tuple[bytes, bytes]:
        while not self.frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.socket], [], [], remaining)[0]:
                raise WorkerError("the worker did not answer in time")
            data = self.socket.recv(1 << 20)
            if not data:
                raise WorkerError("the worker has gone")
            try:
                self.frames += self.reader.feed(data)
            except _wire.ProtocolError as exc:
                raise WorkerError(f"the worker sent what is not a message ({exc})") from None
        return self.frames.pop(0)

    def ready(self, deadline: float) -> dict:
        """What the worker has in force, once it has set itself up."""
        if self.mode is None:
            kind, body = self._next(deadline)
            if kind != FromWorker.READY:
                raise WorkerError("the worker did not start")
            import numpy as np

            self.mode = _wire.decode(body, np)
        return self.mode

    def run(self, job: bytes, deadline: float) -> list[tuple[bytes, bytes]]:
        """Send a job; its frames back, up to the end frame, by the deadline."""
        self.ready(deadline)
        self.socket.sendall(job)
        frames = []
        while True:
            kind, body = self._next(deadline)
            frames.append((kind, body))
            if kind == FromWorker.END:
                return frames

    def close(self) -> None:
        """End the worker and everything under it (its namespace goes with its fork server)."""
        with _live_lock:
            _live.discard(self)
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.socket.close()
        self.process.wait()


def worker_key(hide: tuple[str, ...]) -> tuple:
    """What a worker was made for: a job with another key needs another worker."""
    return (hide, *(os.environ.get(f"BACKPROP_GRADER_{name}") for name in ("NAMESPACES", "USERNS", "LANDLOCK")))


def _encode(value: Any) -> bytes:
    import numpy as np

    return _wire.make_encoder(np)(value, [10 ** 7])


def start_early() -> None:
    """Start one worker before the grader has even read its options: the worker's start
    (numpy, the modules students import) then runs alongside the grader's own."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        return
    try:
        worker = Worker()
    except OSError:
        return
    with _idle_lock:
        _idle.append(worker)


def prewarm(count: int, hide: tuple[str, ...]) -> None:
    """Have `count` workers for these hidden paths starting now: one started early is told its
    settings, the others are started, so that they load numpy while the grader gets ready."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        return
    with _idle_lock:
        early = [w for w in _idle if w.key is None]
        ready = sum(w.key == worker_key(hide) for w in _idle)
    for worker in early[:max(0, count - ready)]:
        try:
            worker.configure(hide)
        except OSError:
            with _idle_lock:
                _idle.remove(worker)
            worker.close()
    with _idle_lock:
        missing = count - sum(w.key == worker_key(hide) for w in _idle)
    for _ in range(missing):
        try:
            worker = Worker(hide)
        except OSError:
            return
        with _idle_lock:
            _idle.append(worker)


def worker_mode(hide: tuple[str, ...], allowance: float = 60.0) -> dict:
    """What a worker for these hidden paths has in force on this machine, as it said when it
    was ready (its namespaces, the user student code runs as, what failed, what is missing):
    an idle one is asked, and stays idle for the first job."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        worker = Worker(hide, once=True)
        try:
            return worker.ready(time.monotonic() + allowance)
        finally:
            worker.close()
    worker = _checkout(hide)
    try:
        mode = worker.ready(time.monotonic() + allowance)
    except (WorkerError, OSError) as exc:
        worker.close()
        return {"failures": [f"could not start a worker ({exc})"]}
    with _idle_lock:
        _idle.append(worker)
    return mode


def limit(count: int) -> None:
    """At most `count` jobs on workers at once (a batch's --jobs). More grading threads than
    that may run: while these workers run submissions, the others load and judge, so that a
    worker never waits for the grader to finish judging its last submission."""
    global _slots_free
    _slots_free = threading.BoundedSemaphore(max(1, count))


def run(job: bytes, hide: tuple[str, ...], allowance: float) -> tuple[list[tuple[bytes, bytes]], dict | None]:
    """Run a job on an idle worker (or a fresh one), within `allowance` seconds of getting
    one; its frames and the worker's mode."""
    if os.environ.get("BACKPROP_GRADER_WARM") == "0":
        worker = Worker(hide, once=True)
        try:
            return worker.run(job, time.monotonic() + allowance), worker.mode
        finally:
            worker.close()
    slots = _slots_free
    if slots is not None:
        slots.acquire()
    try:
        if _stopping.is_set():
            raise WorkerError("the grader is stopping")
        for attempt in range(2):  # a worker that died since its last job is replaced once
            worker = _checkout(hide)
            fresh = worker.mode is None
            try:
                frames = worker.run(job, time.monotonic() + allowance)
            except (WorkerError, OSError):
                worker.close()
                if fresh or attempt or _stopping.is_set():
                    raise
                continue
            with _idle_lock:
                _idle.append(worker)
            return frames, worker.mode
        raise WorkerError("no worker could be started")  # pragma: no cover - the loop returns
    finally:
        if slots is not None:
            slots.release()


def _checkout(hide: tuple[str, ...]) -> Worker:
    """An idle worker for these hidden paths (one made for others is ended), one started
    early and told its settings now, or a new one."""
    key = worker_key(hide)
    with _idle_lock:
        stale = [w for w in _idle if (w.key is not None and w.key != key) or w.process.poll() is not None]
        for old in stale:
            _idle.remove(old)
        found = next((w for w in reversed(_idle) if w.key == key), None) \
            or next((w for w in _idle if w.key is None), None)
        if found is not None:
            _idle.remove(found)
    for old in stale:
        old.close()
    if found is not None and found.key is None:
        found.configure(hide)
    return found or Worker(hide)


def kill_all() -> None:
    """End every worker at once (the grader is being interrupted)."""
    with _live_lock:
        workers = list(_live)
    _stopping.set()
    for worker in workers:
        with contextlib.suppress(OSError):
            os.killpg(worker.process.pid, signal.SIGKILL)


def close_all() -> None:
    """End the workers of this process cleanly (at exit), and remove their folders."""
    with _live_lock:
        workers = list(_live)
    for worker in workers:
        worker.close()
    remove_scratch()
