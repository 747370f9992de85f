"""The runner: the one process where student code runs, one per submission (and again after a
timeout), forked by the worker's clean fork server so that it starts with nothing of any other
submission in its memory.

Part of the program that runs student code. It reads its program and plan from the worker
(ToRunner), isolates itself (its own System V IPC, in the worker's namespaces where /tmp,
/var/tmp and /dev/shm are private and wiped after each runner and the private folders hidden; a
user of the grader's own or no capabilities; resource limits; Landlock; the syscall filter),
installs an audit hook that blocks and flags reaching for the answer key (see audit), runs each
cell whole (a statement at a time once it overran: see cells), then answers the calls the
worker sends it, stage by stage (see calls): a call arrives only once every question whose
answer its arguments hold has been answered. It decides nothing: the worker and the grader
check all it says (FromRunner).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any

from .audit import install_audit_hook
from .calls import Answerer, Record, seed_generators
from .cells import Cells
from .protocol import CALL_FIELDS, KEY, LENGTH, LOST_CHANNEL, RESULT_FIELDS, FromRunner, ToRunner, plain_name
from .standins import install_finders, missing_message
from .system import (
    CAPABILITY_SETS,
    CLONE_NEWIPC,
    PR_GET_NO_NEW_PRIVS,
    PR_GET_SECCOMP,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    SECCOMP_MODE_FILTER,
    Filter,
    Libc,
    SetupError,
    become,
    capabilities,
    drop_capabilities,
    install_filter,
    landlock_restrict,
    last_capability,
    limit_resources,
    step,
)
from .wire import MAX_TEXT, UNLIMITED, Encode, Frame, FrameReader, decode, make_encoder

# A result that says no more than its answer travels as the answer alone (FromRunner.ANSWER).
_PLAIN = frozenset(("status", "value", "via", "trace", "truncated", "reordered"))


class Channel:
    """The runner's two pipes to the worker."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd, self.reader = read_fd, write_fd, FrameReader()
        self.pending: list[Frame] = []
        # Bound now: sending may happen while student code has patched builtins (mid-cell).
        self._write, self._pack, self._len, self._view = os.write, LENGTH.pack, len, memoryview

    def send(self, kind: bytes, body: bytes = b"") -> None:
        data = self._view(self._pack(self._len(body) + 1) + kind + body)
        try:
            while data:
                data = data[self._write(self.write_fd, data):]
        except OSError:  # the worker has gone, or the student's code closed this end
            os._exit(LOST_CHANNEL)

    def receive(self) -> Frame:
        while not self.pending:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:  # the worker has gone, or the student's code closed this end
                os._exit(LOST_CHANNEL)
            self.pending += self.reader.feed(chunk)
        return self.pending.pop(0)


class Prepared:
    """What every runner needs, made once by the fork server before it forks any: made in
    each runner, these cost more than a millisecond of page copies and lookups."""

    def __init__(self, np: types.ModuleType, seccomp: bytes | None = None) -> None:
        self.libc = Libc()
        # The syscall filter (see syscall_filter), ready for the kernel, or None.
        self.seccomp = None if seccomp is None else Filter(seccomp)
        self.landlock: int | None = None  # the fork server's Landlock ruleset (a descriptor), or None
        self.landlock_abi = 0  # the Landlock ABI it was made for
        self.bounded = False  # whether the fork server emptied the bounding set, for all runners
        self.last_capability = last_capability()
        self.encode = make_encoder(np, MAX_TEXT)
        # Standard input is /dev/null (the worker's, and each runner's again): read from a
        # stream made before any runner, which has nothing buffered.
        self.stdin = open(0, closefd=False)  # noqa: SIM115 - kept open for every runner
        # The class's first-stage calls, decoded once (key -> CALL_FIELDS): a stage names them
        # by key. Each runner has its own copy of them (the fork's), and takes each call out as
        # it answers it: nothing a student's code does to its arguments reaches another call or
        # another runner. Only the first stage: a later stage's arguments hold answers, which
        # must not reach a runner before their question is answered. Nothing here is of any
        # submission: the grader makes the calls from its seed.
        self.calls: dict[int, list[Any]] = {}

    def prepare_calls(self, body: bytes, np: types.ModuleType) -> int:
        """The calls in `body` (a list, as a stage carries them), from now on held here."""
        self.calls = {fields[0]: fields for fields in decode(body, np)}
        return len(self.calls)


def runner_main(read_fd: int, write_fd: int, output_fd: int, prepared: Prepared) -> None:
    """After the fork: become a fresh process, isolate, run the student's code, exit."""
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() fails at once
    for fd in (devnull, output_fd):
        os.close(fd)
    keep = sorted({0, 1, 2, read_fd, write_fd} | ({prepared.landlock} if prepared.landlock is not None else set()))
    for low, high in zip(keep, [*keep[1:], 65536], strict=True):  # nothing of the worker's stays open
        os.closerange(low + 1, high)
    sys.stdin = prepared.stdin
    channel = Channel(read_fd, write_fd)
    import numpy as np

    encode = prepared.encode
    try:
        kind, body = channel.receive()
        program = decode(body, np) if kind == ToRunner.PROGRAM else {}
        kind, body = channel.receive()
        setup = decode(body, np) if kind == ToRunner.PLAN else {}
        stop_at, program["plan"] = setup.get("stop_at", {}), setup.get("plan", {})
        report = isolate(program["plan"], prepared)
    except SetupError as exc:  # a protection that could not be put in place: no student code
        channel.send(FromRunner.FAILED, str(exc)[:300].encode())
        os._exit(1)
    except Exception as exc:  # the sandbox's own failure, before any student code: say what
        channel.send(FromRunner.FAILED, f"could not start: {type(exc).__name__}: {exc}"[:300].encode())
        os._exit(1)
    channel.send(FromRunner.ISOLATION, encode(report, [UNLIMITED]))
    run_program(program, stop_at, channel, encode, np, prepared.calls)
    _flush()
    os._exit(0)


def isolate(plan: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
    """Confine this process as the plan says, every step checked with the kernel's own word:
    a step that fails raises SetupError ("could not ..."), and no student code runs (the
    sandbox fails closed, as nsjail's does). Returns what is in force, read back from the
    kernel (in full, its namespaces and what it can read of the key's copies, for
    --sandbox-info)."""
    libc, linux = prepared.libc, sys.platform.startswith("linux")
    _enter(plan, libc)
    limits = limit_resources(plan.get("limits", {"memory_mb": 0, "cpu_seconds": 60}),
                             plan.get("processes"), strict=linux)
    identity = plan.get("identity", "own")
    _become(plan, identity, libc)
    if linux:
        step("set no_new_privs", libc.check, libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
        if libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1:
            raise SetupError("could not set no_new_privs: the kernel does not report it")
        step("die with the fork server", libc.check,
             libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if prepared.landlock is not None:
        step("confine file access with Landlock", landlock_restrict, libc, prepared.landlock)
        os.close(prepared.landlock)
    if prepared.seccomp is not None:  # last: it refuses the calls isolating needs
        step("install the syscall filter", install_filter, libc, prepared.seccomp)
    held = capabilities(libc, prepared.last_capability) if linux else {}
    _check_capabilities(held, prepared.bounded)
    report = {"identity": identity, "user": os.getuid(), "limits": limits, "problems": [],
              "namespaces": bool(plan.get("namespaces")), "userns": bool(plan.get("userns")),
              "pool_user": identity == "pool",
              "landlock": prepared.landlock_abi if prepared.landlock is not None else 0,
              "bounded": prepared.bounded,
              "seccomp": linux and libc.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == SECCOMP_MODE_FILTER,
              "no_new_privs": linux and libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1}
    if plan.get("report_copies"):  # --sandbox-info: all the rest, as student code would find it
        report.update(_read_back(plan, held))
    return report


def _enter(plan: dict[str, Any], libc: Libc) -> None:
    """Its own IPC and working folder (the worker's private /tmp, wiped after each runner, or
    the job's own folder), and the environment the plan gives."""
    if plan.get("namespaces"):
        step("make its own IPC namespace", libc.check, libc.unshare(CLONE_NEWIPC), "unshare")
        step("enter its private /tmp", os.chdir, "/tmp")
    else:
        step("enter its own folder", os.chdir, plan.get("scratch") or "/")
    wanted = plan.get("env", {})
    if os.environ != wanted:  # as a rule the fork server's already (see fork_server)
        os.environ.clear()
        os.environ.update(wanted)


def _become(plan: dict[str, Any], identity: str, libc: Libc) -> None:
    """Who student code runs as: a user of the grader's own (the grader is root: root's
    powers gone for good), or no capabilities at all (root of a user namespace)."""
    if identity == "pool":
        step("become a user of the grader's own", become, plan["uid"], plan["gid"])
        users = os.getresuid() + os.getresgid() if hasattr(os, "getresuid") else \
            (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
        if set(users) != {plan["uid"], plan["gid"]} or os.getgroups():
            raise SetupError(f"could not become a user of the grader's own: uids and gids {users}, "
                             f"groups {os.getgroups()} in effect")
    elif identity == "no-capabilities" or plan.get("userns"):
        step("drop every capability", drop_capabilities, libc)


def _check_capabilities(held: dict[str, int | None], bounded: bool) -> None:
    """SetupError unless every capability set is empty, as the kernel says: the bounding set
    is the fork server's to empty (see FileView), wherever it could (`bounded`)."""
    must_be_empty = [name for name in CAPABILITY_SETS if name != "CapBnd" or bounded]
    if any(held[name] != 0 for name in must_be_empty if name in held):
        raise SetupError("could not drop every capability: " + ", ".join(
            f"{name} {hex(value) if (value := held.get(name)) is not None else None}"
            for name in must_be_empty if held.get(name) != 0))


def _read_back(plan: dict[str, Any], held: dict[str, int | None]) -> dict[str, Any]:
    """What --sandbox-info shows beyond what every runner checks: its ids, capability sets,
    the namespaces it does not share with the grader, and what it can read of each copy of
    the answer key."""
    outside = plan.get("outside", {})
    found: dict[str, Any] = {
        "uid": list(os.getresuid()), "gid": list(os.getresgid()), "groups": os.getgroups(),
        "capabilities": {name: value for name, value in held.items() if value is not None},
        "own_namespaces": sorted(name for name in ("ipc", "mnt", "pid", "net", "user")
                                 if name in outside and _namespace(name) not in (None, outside[name])),
        "copies": {path: what_can_be_read(path) for path in plan.get("protected", ())},
        "problems": []}
    if plan.get("identity") == "pool" and not os.access(os.path.join(sys.prefix, "lib"), os.R_OK | os.X_OK):
        found["problems"].append("student code cannot read the Python installation here: only "
                                 "modules imported before it started can be imported")
    return found


def _namespace(name: str) -> str | None:
    """This process's namespace of a kind, as the kernel names it (None where it can't say)."""
    try:
        return os.readlink(f"/proc/self/ns/{name}")
    except OSError:
        return None


def what_can_be_read(path: str) -> str:
    """What this process can read of a copy of the answer key: hidden (gone or empty),
    confined (Landlock refuses what permissions would allow), unreadable (permissions refuse
    it) or readable."""
    def refused() -> str:
        return "confined" if os.access(path, os.R_OK) else "unreadable"  # access() is DAC alone

    try:
        if not os.path.isdir(path):
            with open(path, "rb") as handle:
                return "readable" if handle.read(1) else "hidden"
        if not os.listdir(path):
            return "hidden"
        confined = False
        for root, _, files in os.walk(path):
            for name in files:
                try:
                    with open(os.path.join(root, name), "rb") as handle:
                        handle.read(1)
                    return "readable"
                except PermissionError:
                    confined = confined or os.access(os.path.join(root, name), os.R_OK)
                except OSError:
                    continue
        return "confined" if confined else "unreadable"
    except FileNotFoundError:
        return "hidden"
    except PermissionError:
        return refused()
    except OSError:
        return "unreadable"



class Student:
    """The student's side of one runner: the namespace their code runs in, and how what it
    does is said to the worker (errors, missing packages, stand-ins served)."""

    def __init__(self, program: dict[str, Any], channel: Channel, encode: Encode) -> None:
        self.channel, self.encode = channel, encode
        self.memory_mb = program.get("memory_mb", 0)
        self.cells = program.get("cells", [])
        self.filenames = {cell["filename"]: index for index, cell in enumerate(self.cells)}
        self.missing_sent: set[str] = set()
        self.served: set[str] = set()
        module = types.ModuleType("submission")
        module.__file__ = self.cells[0]["filename"] if self.cells else "submission.py"
        sys.modules["submission"] = module
        self.namespace = module.__dict__
        self.namespace["get_ipython"] = NoIPython

    def send_record(self, kind: bytes, record: Any, prefix: bytes = b"") -> None:
        """A record of this runner's: its parts are bounded already (answers and traces by
        their budget, texts by MAX_TEXT, names by count), and the worker caps its frame."""
        self.channel.send(kind, prefix + self.encode(record, [UNLIMITED]))

    def note_missing(self, root: str) -> None:
        # (a name the worker would not pass on, café say, is not reported: only the note is lost)
        if plain_name(root) and root not in self.missing_sent and len(self.missing_sent) < 20:
            self.missing_sent.add(root)
            self.channel.send(FromRunner.MISSING, root.encode())

    def serve_series(self, name: str) -> None:
        if name not in self.served:
            self.served.add(name)
            self.channel.send(FromRunner.STANDIN, name.encode())

    def describe(self, exc: BaseException) -> str:
        """What the student reads of an exception."""
        if isinstance(exc, ModuleNotFoundError) and isinstance(getattr(exc, "name", None), str):
            name = str(exc.name)
            self.note_missing(name.partition(".")[0])  # a package not installed here: by name
            return f"ModuleNotFoundError: {missing_message(name)}"
        if isinstance(exc, SystemExit):
            return f"called sys.exit({exc.code!r})" if exc.code is not None else "called sys.exit()"
        if isinstance(exc, MemoryError):
            return f"out of memory: a submission may use at most {self.memory_mb} MB"
        try:
            text = str(exc)
        except Exception:
            text = ""
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def error_line(self, tb: types.TracebackType | None) -> tuple[int | None, int | None]:
        """(cell, line) of the student's own code deepest in the traceback."""
        line = cell = None
        # Without reading any source (lookup_lines=False): the runner's own files are the
        # grader's, and opening them would flag an honest student.
        for entry in traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False):
            if entry.filename in self.filenames:
                cell, line = self.filenames[entry.filename], entry.lineno
        return cell, line


class NoIPython:
    """What get_ipython() returns here: a notebook exported as a script calls it for its
    magics (get_ipython().run_line_magic(...)), and those are not run, as in a notebook."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return _nothing


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def run_program(program: dict[str, Any], stop_at: dict[str, int | None], channel: Channel, encode: Encode,
                np: types.ModuleType, prepared_calls: dict[int, list[Any]] | None = None) -> None:
    """Run the student's cells, then answer each stage of calls until told there are no more
    (a call the runner holds already comes as its key: see `Prepared.calls`)."""
    prepared_calls = prepared_calls or {}
    restore_builtins = _builtins_keeper()
    student = Student(program, channel, encode)
    namespace = student.namespace
    series = program.get("series") or {}
    install_finders(program.get("modules", {}), student.serve_series, series.get("modules", ()),
                    series.get("standin", ""))
    install_audit_hook(channel.send, program.get("plan", {}).get("protected", ()))
    seed_generators(np, program["seed"] if isinstance(program.get("seed"), int) else 0)
    Cells(student.cells, stop_at, namespace, channel.send, student.describe, student.error_line,
          student.note_missing, restore_builtins).run()
    fragments = sorted(k for k, v in list(namespace.items())
                       if isinstance(v, types.FunctionType) and _is_method_fragment(v))
    _flush()  # what loading printed is in its pipe before the worker hears it loaded
    student.send_record(FromRunner.LOADED, {"defined": _names(k for k, v in list(namespace.items())
                                                              if callable(v) and not k.startswith("__")),
                                            "fragments": _names(fragments)})
    answer = Answerer(program, namespace, fragments, encode, student.describe, student.error_line, restore_builtins)
    while True:
        kind, body = channel.receive()
        if kind != ToRunner.STAGE:
            return
        for fields in decode(body, np):
            if fields.__class__ is int:  # held already; asked once (a second time: no such call)
                fields = prepared_calls.pop(fields)
            key, record = answer(dict(zip(CALL_FIELDS, fields, strict=False)))
            # What the call printed is in its pipe before its answer is sent: the worker reads
            # it before it asks a stage whose printing is not kept (see Run.next_stage).
            _flush()
            _send_result(student, key, record)


def _send_result(student: Student, key: int, record: Record) -> None:
    """A call's result to the worker: the answer alone where the record says no more."""
    if record.keys() <= _PLAIN and record["status"] == "returned" and not record.get("trace") \
            and record.get("via") is None and not record.get("reordered"):
        student.channel.send(FromRunner.ANSWER, KEY.pack(key) + record["value"])
    else:
        student.send_record(FromRunner.RESULT, [record.get(name) for name in RESULT_FIELDS], KEY.pack(key))


def _names(names: Iterable[Any], limit: int = 1000) -> list[str]:
    """Names as the grader reads them: identifiers of at most 100 characters, the first
    `limit` in order (a namespace may hold any number, of any length)."""
    return sorted(n for n in names if isinstance(n, str) and len(n) <= 100)[:limit]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - nothing of the student's reach (they may have patched contextlib)
            stream.flush()
        except BaseException:  # the student may have replaced or closed them
            pass


def _builtins_keeper() -> Callable[[], None]:
    """A function that puts builtins back as they were now: student code may patch them (len,
    isinstance...), and the runner's own work after each statement and call must not see that."""
    import builtins

    pristine = dict(builtins.__dict__)
    live = builtins.__dict__

    def restore() -> None:
        if live == pristine:  # compared in C, item by item: the usual case costs little
            return
        for name in [k for k in live if k not in pristine]:
            del live[name]
        for name, value in pristine.items():
            if live.get(name) is not value:
                live[name] = value

    return restore


def _is_method_fragment(value: Any) -> bool:
    """A function pasted out of a class (its first parameter is self): not an answer."""
    code = getattr(value, "__code__", None)
    return isinstance(code, types.CodeType) and code.co_argcount > 0 and code.co_varnames[0] == "self"


