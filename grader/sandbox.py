"""Run untrusted student code in a separate process and bring back plain values.

The grader never imports, unpickles or evaluates anything the student's process produced: the
child (``_child.py``) writes JSON lines, and this module turns them into frozen dataclasses of
numbers, lists and numpy arrays rebuilt here. It decides nothing about right or wrong.

Each call to a student function has its own time limit. A call that runs over, or that ends
the process (``os._exit``, a segfault), costs that call: the process and everything under it
are killed and a fresh one reloads the cells and carries on with the calls still to make. A top-level statement
that hangs or kills the process is skipped on reload, with the rest of its cell, so that what
was defined before it is still graded.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from grader import processes

# Python and numpy must start within this, whatever --timeout says; it is not student time.
_STARTUP_SECONDS = 30.0
_MAX_EVENT_LINE = 16 * 1024 * 1024
# Added to a submission's time budget for the process starts of its reloads.
_BUDGET_SLACK = 5.0


class SandboxError(Exception):
    """The sandbox itself could not run the submission (not the student's fault)."""


_cancelled = threading.Event()


def cancel_all() -> None:
    """End every running submission and refuse new ones: the grader is stopping."""
    _cancelled.set()
    processes.kill_all()


@dataclass(frozen=True)
class Limits:
    """Bounds on one submission's process."""

    timeout: float = 10.0  # seconds for loading the cells, and again for each call
    # A submission's whole run (every reload included) may take this many timeouts at most:
    # a file whose every function hangs costs a bounded time, not one timeout per question.
    budget_timeouts: float = 6.0
    memory_mb: int = 1024  # address space of the student's process
    max_output: int = 4000  # characters of the student's printed output kept for feedback
    max_elements: int = 100_000  # numbers one answer may hold


@dataclass(frozen=True)
class Confinement:
    """What the student's process must not see: `protected` (every copy of the grader and the
    model answer, the catalogues) is blocked and flagged; `hidden` folders (private ones, other
    students') appear empty where the platform allows, and so does everything protected."""

    protected: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    report_copies: bool = False  # say what the student's process can read of each protected path


@dataclass(frozen=True)
class Cell:
    """A unit of student source; a .py file is one cell, a notebook one per code cell."""

    source: str
    filename: str


@dataclass(frozen=True)
class Module:
    """One of the student's own .py files, importable by name from their submission."""

    name: str
    source: str
    filename: str


@dataclass(frozen=True)
class Contract:
    """What the student's process must know of the assignment to make the calls: every name a
    graded function may have (with its question), and each question's parameters as the stub
    names them (a function with the same names in another order is called by name)."""

    graded: tuple[tuple[str, str], ...] = ()  # (name, question id)
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (question id, parameter names)

    @cached_property
    def wire(self) -> dict:
        return {"graded": dict(self.graded), "params": {q: list(p) for q, p in self.params}}


@dataclass(frozen=True)
class Call:
    """One call to make: the first of `names` that is defined, with plain arguments."""

    key: int
    names: tuple[str, ...]
    args: tuple
    group: str  # the question: its calls are skipped after one of them times out
    read: bool = False  # the answer is the values of `names`, module-level constants

    @cached_property
    def wire(self) -> dict:
        """The call as the child reads it (computed once: a class reuses the same calls)."""
        wire = {"key": self.key, "names": list(self.names), "question": self.group,
                "args": [encode_argument(a) for a in self.args]}
        if self.read:
            wire["read"] = True
        return wire

    @cached_property
    def wire_json(self) -> str:
        return json.dumps(self.wire)


@dataclass(frozen=True, eq=False)  # compared by identity: one node is one recorded call
class Traced:
    """A graded function that a judged call used, as the student's process recorded it: its
    question, the arguments in the stub's order (None if they could not be matched), and
    what it gave back (or raised), with the graded calls it made in turn."""

    function: str
    args: tuple | None
    status: str  # returned or raised
    value: Any = None
    calls: tuple["Traced", ...] = ()


@dataclass(frozen=True)
class CallOutcome:
    """What happened to one call: status is returned, raised, missing, refused, timeout or crashed."""

    status: str
    value: Any = None
    message: str = ""
    cell: int | None = None
    line: int | None = None
    # "class" when the series' Neural_Network class answered, not a function of that name.
    via: str | None = None
    trace: tuple[Traced, ...] = ()  # the graded functions the call used
    truncated: bool = False  # the trace stopped at its bounds
    reordered: tuple[str, ...] | None = None  # the stub's parameters, in the student's order
    precision: str | None = None  # "float32" when the answer was computed in less than float64


@dataclass(frozen=True)
class LoadProblem:
    """A top-level statement that raised, hung or ended the process."""

    cell: int
    line: int | None
    message: str
    kind: str  # raised, timeout or crashed


@dataclass(frozen=True)
class RunResult:
    outcomes: dict[int, CallOutcome]
    load_problems: tuple[LoadProblem, ...]
    defined: tuple[str, ...]
    output: str
    output_chars: int
    flags: tuple[str, ...] = ()  # what the student's code tried that it should not
    isolation: dict = field(default_factory=dict)  # the protections in force, as reported
    missing: tuple[str, ...] = ()  # packages imported that are not installed here
    standins: tuple[str, ...] = ()  # the series' support modules given as data-only stand-ins
    # Top-level functions whose first parameter is self: methods pasted outside their class.
    fragments: tuple[str, ...] = ()


def encode_argument(value: Any) -> Any:
    """Plain JSON for an argument: arrays as shape and flat data, ints as ints."""
    if isinstance(value, np.ndarray):
        return {"array": list(value.shape), "data": value.astype(float).ravel().tolist()}
    if isinstance(value, (np.integer, int)):
        return int(value)
    return float(value)


class UnreadableValue(ValueError):
    """An event's value is not in the wire format."""


def decode_value(value: Any, depth: int = 0, precision: set | None = None) -> Any:
    """Rebuild a student's answer from the wire format, trusting nothing about it. The names
    of float types narrower than float64 that it was computed in go into `precision`."""
    if depth > 32:
        raise UnreadableValue("nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list):
        return [decode_value(item, depth + 1, precision) for item in value]
    if isinstance(value, dict):
        if "array" in value:
            if value.get("dtype") in ("float32", "float16") and precision is not None:
                precision.add(value["dtype"])
            shape, data = value.get("array"), value.get("data")
            if (not isinstance(shape, list) or not isinstance(data, list)
                    or not all(isinstance(n, int) and n >= 0 for n in shape)
                    or int(np.prod(shape, dtype=np.int64)) != len(data)):
                raise UnreadableValue("malformed array")
            try:
                array = np.array(data)
            except (ValueError, TypeError):
                raise UnreadableValue("malformed array") from None
            if array.ndim != 1 or (array.size and array.dtype.kind not in "fi"):
                raise UnreadableValue("malformed array")  # strings, booleans, objects
            return array.astype(float).reshape(shape)
        if isinstance(value.get("str"), str):
            return value["str"]
        if isinstance(value.get("unsupported"), str):
            return Unsupported(value["unsupported"][:100])
    raise UnreadableValue("unknown value")


_MAX_TRACED = 256


def decode_trace(nodes: Any, questions: set[str], depth: int = 0, seen: list | None = None) -> tuple[Traced, ...]:
    """Rebuild a judged call's trace, validated node by node; UnreadableValue if malformed."""
    seen = [0] if seen is None else seen
    if not isinstance(nodes, list) or depth > 8:
        raise UnreadableValue("malformed trace")
    traced = []
    for node in nodes:
        seen[0] += 1
        if seen[0] > _MAX_TRACED or not isinstance(node, dict) or node.get("f") not in questions:
            raise UnreadableValue("malformed trace")
        args = node.get("args")
        args = None if args is None else tuple(decode_value(a) for a in _as_list(args))
        status = "raised" if "raised" in node else "returned"
        value = decode_value(node.get("value")) if status == "returned" else None
        calls = decode_trace(node.get("calls", []), questions, depth + 1, seen)
        traced.append(Traced(node["f"], args, status, value, calls))
    return tuple(traced)


def _as_list(value: Any) -> list:
    if not isinstance(value, list):
        raise UnreadableValue("malformed trace")
    return value


@dataclass(frozen=True)
class Unsupported:
    """An answer of a type that is neither a number, a sequence, a string nor an array."""

    type_name: str


@dataclass
class _Attempt:
    """The state of one child process's run, updated as its events arrive."""

    running_call: int | None = None
    # The calls in the order the child makes them: the one running is the first unanswered.
    order: list[int] = field(default_factory=list)
    running_stmt: tuple[int, int, int] | None = None  # cell, statement index, line
    loaded: bool = False
    deadline: float = 0.0
    budget_end: float = float("inf")  # no deadline is ever later than this
    defined: tuple[str, ...] = ()
    problems: list[LoadProblem] = field(default_factory=list)
    student_started: bool = False
    ended_by: str | None = None  # timeout or crashed, when the process did not finish its job
    ended_message: str = ""
    exit: dict | None = None  # how the runner ended, as its supervisor saw it

    def limit(self, now: float, limits: "Limits") -> float:
        """The deadline of a step starting now: its own timeout, within the whole budget."""
        return min(now + limits.timeout, self.budget_end)
    fatal: str = ""  # the sandbox's own failure inside the child, if any
    flags: list[str] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)
    fragments: tuple[str, ...] = ()
    questions: set[str] = field(default_factory=set)  # the ids a trace may name


class _Output:
    """The student's printed output: counted in full, kept up to a limit."""

    def __init__(self, limit: int):
        self.limit, self.kept, self.total = limit, bytearray(), 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


def _unprivileged_user() -> tuple[int, int] | None:
    """(uid, gid) to run student code as when the grader runs as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return 65534, 65534


def _isolation_plan(confinement: Confinement) -> dict:
    user = _unprivileged_user()
    homes = {str(Path.home()), "/root", "/home"}
    return {
        # New namespaces need root (CAP_SYS_ADMIN); the child reports whether they took.
        "namespaces": user is not None and os.environ.get("BACKPROP_GRADER_NAMESPACES") != "0",
        "uid": user[0] if user else None,
        "gid": user[1] if user else None,
        "protected": sorted({os.path.realpath(p) for p in confinement.protected}),
        "report_copies": confinement.report_copies,
        "hide": sorted({os.path.realpath(p) for p in (*confinement.protected, *confinement.hidden,
                                                       *homes)}),
    }


def run(cells: list[Cell], calls: list[Call], limits: Limits = Limits(),
        confinement: Confinement = Confinement(), modules: tuple[Module, ...] = (),
        contract: Contract = Contract()) -> RunResult:
    """Load the cells in a fresh sandboxed process and make the calls; never raises for
    anything the student's code does (SandboxError is the sandbox's own failure)."""
    pending = {call.key: call for call in calls}
    outcomes: dict[int, CallOutcome] = {}
    stop_at: dict[int, int] = {}
    problems: dict[tuple[int, int | None], LoadProblem] = {}
    defined: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    flags: list[str] = []
    missing: list[str] = []
    standins: list[str] = []
    isolation: dict = {}
    output = _Output(limits.max_output)
    plan = _isolation_plan(confinement)
    budget_end = time.monotonic() + _BUDGET_SLACK + limits.timeout * limits.budget_timeouts
    scratch = tempfile.mkdtemp(prefix="grade-")
    if plan["uid"] is not None:
        os.chown(scratch, plan["uid"], plan["gid"])
    try:
        # Each pass either finishes, or ends one call or one top-level statement for good.
        for _ in range(len(calls) + sum(c.source.count("\n") + 1 for c in cells) + 2):
            if time.monotonic() >= budget_end:
                break
            attempt = _run_once(cells, modules, contract, list(pending.values()), stop_at, limits,
                                plan, scratch, output, outcomes, budget_end)
            flags += [f for f in attempt.flags if f not in flags]
            missing += [m for m in attempt.missing if m not in missing]
            standins += [m for m in attempt.standins if m not in standins]
            isolation = isolation or attempt.isolation
            for problem in attempt.problems:
                problems.setdefault((problem.cell, problem.line), problem)
            if attempt.loaded:
                defined, fragments = attempt.defined, attempt.fragments
            for key in list(pending):
                if key in outcomes:
                    del pending[key]
            ended = _after_kill(attempt, pending, outcomes, stop_at, problems)
            if not ended:
                break
        else:
            raise SandboxError("the submission's process had to be restarted too many times")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    spent = time.monotonic() >= budget_end
    for key in pending:  # out of time, or the process ended without making them (tampering)
        outcomes[key] = CallOutcome("timeout", message=f"not run: the submission's time "
                                    f"({limits.timeout * limits.budget_timeouts:g} s in all) ran out") \
            if spent else CallOutcome("crashed", message="the process ended before this call was made")
    ordered = tuple(sorted(problems.values(), key=lambda p: (p.cell, p.line or 0)))
    return RunResult(outcomes, ordered, defined, output.text(), output.total, tuple(flags),
                     isolation, tuple(missing), tuple(standins), fragments)


def _after_kill(attempt: _Attempt, pending: dict[int, Call], outcomes: dict[int, CallOutcome],
                stop_at: dict[int, int], problems: dict) -> bool:
    """Record what a killed or dead process was doing; True if another pass is needed."""
    kind, message = attempt.ended_by, attempt.ended_message
    if kind is None:
        return False
    if attempt.running_call is not None:
        # A key the grader never asked for means the events were forged: charge the first
        # call still pending, so that every pass still makes progress.
        call = pending.pop(attempt.running_call, None) or \
            (pending.pop(next(iter(pending))) if pending else None)
        if call is None:
            return False
        outcomes[call.key] = CallOutcome(kind, message=message)
        for other in list(pending.values()):
            if other.group == call.group:
                del pending[other.key]
                outcomes[other.key] = CallOutcome(
                    kind, message=f"not run: an earlier case {_ENDED_PHRASE[kind]}")
    elif attempt.running_stmt is not None:
        cell, index, line = attempt.running_stmt
        stop_at[cell] = index
        problems[(cell, line)] = LoadProblem(cell, line, message, kind)
    else:
        detail = f" ({attempt.fatal})" if attempt.fatal else ""
        raise SandboxError(f"the sandboxed process {message or 'failed'} before running any "
                           f"student code{detail}")
    return bool(pending) or attempt.running_stmt is not None


_ENDED_PHRASE = {"timeout": "ran out of time", "crashed": "ended the process"}


def _run_once(cells, modules, contract, calls, stop_at, limits, plan, scratch, output, outcomes,
              budget_end) -> _Attempt:
    if _cancelled.is_set():
        raise SandboxError("cancelled: the grader is stopping")
    job = {
        "cells": [{"source": c.source, "filename": c.filename} for c in cells],
        "modules": {m.name: {"source": m.source, "filename": m.filename} for m in modules},
        "stop_at": {str(cell): index for cell, index in stop_at.items()},
        "max_elements": limits.max_elements,
        "limits": {"memory_mb": limits.memory_mb,
                   # CPU seconds are a backstop for a grader that died: the grader itself
                   # stops each call at its wall-clock limit.
                   "cpu_seconds": _STARTUP_SECONDS + limits.timeout * (len(calls) + 2)},
        "isolation": plan,
        **contract.wire,
    }
    # The calls' JSON is made once per call and reused: a class sends the same calls each time.
    job_json = json.dumps(job)[:-1] + ', "calls": [' + ", ".join(c.wire_json for c in calls) + "]}"
    process = processes.start(job_json, scratch, processes.environment(scratch))
    attempt = _Attempt(deadline=min(time.monotonic() + _STARTUP_SECONDS, budget_end),
                       budget_end=budget_end, order=[call.key for call in calls],
                       questions={question for _, question in contract.graded})
    try:
        _watch(process, attempt, limits, output, outcomes)
    finally:
        if attempt.exit is not None and attempt.isolation.get("namespaces") and attempt.ended_by is None:
            process.wait()  # the runner was PID 1 of its namespace: nothing of it is left
        else:
            process.kill()
        processes.forget(process)
        process.close()
    if _cancelled.is_set():
        raise SandboxError("cancelled: the grader is stopping")
    return attempt


def _watch(process: processes.Started, attempt, limits, output, outcomes) -> None:
    """Read events and output until the child exits or overruns; fills `attempt`."""
    selector = selectors.DefaultSelector()
    selector.register(process.event_read, selectors.EVENT_READ, "events")
    selector.register(process.output_read, selectors.EVENT_READ, "output")
    buffer = bytearray()
    open_streams = 2
    while open_streams:
        remaining = attempt.deadline - time.monotonic()
        if remaining <= 0:
            if _student_code_running(attempt):
                attempt.ended_by = "timeout"
                attempt.ended_message = f"ran for more than {limits.timeout:g} s"
            elif not attempt.loaded:
                attempt.ended_by, attempt.ended_message = "crashed", "did not start in time"
            return  # else every call is answered: whatever still runs (atexit...) is ignored
        for key, _ in selector.select(timeout=min(remaining, 1.0)):
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fileobj)
                open_streams -= 1
            elif key.data == "output":
                output.add(data)
            else:
                buffer += data
                if len(buffer) > _MAX_EVENT_LINE and b"\n" not in buffer:
                    attempt.ended_by, attempt.ended_message = "crashed", "sent an answer too large to read"
                    return
                *lines, rest = bytes(buffer).split(b"\n")
                buffer = bytearray(rest)
                for line in lines:
                    _apply_event(line, attempt, limits, outcomes)
    status = process.wait()
    if _student_code_running(attempt) or not attempt.loaded:
        attempt.ended_by, attempt.ended_message = "crashed", _describe_exit(attempt.exit, status)


def _student_code_running(attempt: _Attempt) -> bool:
    return attempt.running_call is not None or (attempt.running_stmt is not None
                                                and not attempt.loaded)


def _apply_event(line: bytes, attempt: _Attempt, limits: Limits, outcomes) -> None:
    """Apply one event line; a line that is not a well-formed event is ignored (student code
    can write to the pipe too, so nothing it says is taken on trust)."""
    try:
        event = json.loads(line)
        _apply(event, attempt, limits, outcomes)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return


def _apply(event: dict, attempt: _Attempt, limits: Limits, outcomes) -> None:
    kind = event["event"]
    now = time.monotonic()
    if kind == "stmt":
        attempt.running_stmt = (int(event["cell"]), int(event["index"]), _whole(event.get("line")))
        if not attempt.student_started:  # loading all the cells shares one limit
            attempt.student_started, attempt.deadline = True, attempt.limit(now, limits)
    elif kind == "error":
        attempt.problems.append(LoadProblem(int(event["cell"]), _whole(event.get("line")),
                                            str(event.get("message", ""))[:500], "raised"))
    elif kind == "flag":
        text = str(event.get("flag", ""))[:100]
        if text and text not in attempt.flags:
            attempt.flags.append(text)
    elif kind == "missing":
        _note_name(attempt.missing, event.get("package"))
    elif kind == "standin":
        _note_name(attempt.standins, event.get("module"))
    elif kind == "isolation" and not attempt.isolation:  # the runner's own comes first
        attempt.isolation = event
    elif kind == "fatal":
        attempt.fatal = str(event.get("message", ""))[:300]
    elif kind == "exit" and attempt.exit is None:
        attempt.exit = event
    elif kind == "loaded":
        attempt.loaded, attempt.running_stmt = True, None
        attempt.running_call = _next_call(attempt, outcomes)
        attempt.deadline = attempt.limit(now, limits)
        attempt.defined = tuple(str(name) for name in event.get("defined", ())[:1000])
        attempt.fragments = tuple(str(name) for name in event.get("fragments", ())[:1000])
    elif kind == "result":
        key = int(event["call"])
        status = event.get("status")
        via = "class" if event.get("via") == "class" else None
        try:
            trace = decode_trace(event.get("trace") or [], attempt.questions)
        except (UnreadableValue, RecursionError):
            trace = ()  # a forged or broken trace: nothing is carried forward from it
        truncated = event.get("truncated") is True
        reordered = event.get("reordered")
        reordered = tuple(str(n)[:100] for n in reordered[:10]) if isinstance(reordered, list) else None
        if status == "returned":
            precision: set = set()
            try:
                value = decode_value(event.get("value"), precision=precision)
                outcome = CallOutcome("returned", value=value, via=via, trace=trace,
                                      truncated=truncated, reordered=reordered,
                                      precision=min(precision) if precision else None)
            except UnreadableValue as exc:
                outcome = CallOutcome("refused", message=f"returned a value that could not be read ({exc})")
        elif status in ("raised", "missing", "refused"):
            outcome = CallOutcome(status, message=str(event.get("message", ""))[:500],
                                  cell=_whole(event.get("cell")), line=_whole(event.get("line")),
                                  via=via, trace=trace, truncated=truncated, reordered=reordered)
        else:
            return
        outcomes.setdefault(key, outcome)
        attempt.running_call = _next_call(attempt, outcomes)
        attempt.deadline = attempt.limit(now, limits)  # for the next call, or the exit


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _note_name(names: list[str], value: Any) -> None:
    """Keep a module or package name the child reported, if it is one (at most 20)."""
    if isinstance(value, str) and _NAME.fullmatch(value) and value not in names and len(names) < 20:
        names.append(value)


def _next_call(attempt: _Attempt, outcomes: dict) -> int | None:
    """The call the child is making now: it makes them in order, one at a time, so it is the
    first one without an answer."""
    return next((key for key in attempt.order if key not in outcomes), None)


def _whole(value: Any) -> int | None:
    """A line or cell number from an event: an int, or None for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _describe_exit(runner_exit: dict | None, status: int) -> str:
    """How the runner ended, from its supervisor's report, else from the process's status."""
    if runner_exit is not None:
        number = runner_exit.get("signal")
        status = -int(number) if isinstance(number, int) else int(runner_exit.get("code") or 0)
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"ended the process with exit code {status}"


def probe(confinement: Confinement = Confinement(), limits: Limits = Limits()) -> dict:
    """The protections a submission gets on this machine, as its own process reports them."""
    result = run([Cell("pass", "probe.py")], [], limits, confinement)
    return result.isolation
