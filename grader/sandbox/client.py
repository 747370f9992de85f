"""Run untrusted student code in a process of its own and bring back plain values.

The grader never imports, unpickles or evaluates anything the student's process produced: a
worker (see `child/worker.py`) runs the submission, checks every frame against what it asked,
and sends back frames of plain binary values (see `child/wire.py`; what each frame means is
`child/protocol.py`'s), which this module checks again and turns into frozen dataclasses of
numbers, lists and numpy arrays. It decides nothing about right or wrong.

Each call to a student function has its own time limit, and the whole submission a budget; a
call that runs over or ends the process costs that call, and a fresh process carries on with
the rest. The worker enforces both; here the grader only bounds its own wait.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from grader.results import Unsupported, printable
from grader.sandbox import workers as processes
from grader.sandbox.child import wire as _wire
from grader.sandbox.child.protocol import (
    CALL_FIELDS,
    FLAGS,
    KEY,
    RESULT_FIELDS,
    STATEMENT,
    TRACE_FIELDS,
    WORKER_STATUSES,
    FromWorker,
    ToWorker,
)

# Beyond the submission's own budget: the worker's start (Python, numpy) and its reporting.
_SLACK_SECONDS = 60.0


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
    max_output_total: int = 64 * 1024 * 1024  # printing more than this ends the run
    # Bytes one answer may take as encoded, its whole structure counted (see wire.MAX_ANSWER):
    # enforced as the student's process encodes it, and again before the grader decodes it.
    max_answer_bytes: int = _wire.MAX_ANSWER
    max_answers_total: int = _wire.MAX_ANSWERS  # bytes of all of a submission's answers
    disk_mb: int = 64  # what a submission may write, in each of its temporary folders

    @property
    def budget(self) -> float:
        return self.timeout * self.budget_timeouts


@dataclass(frozen=True)
class Confinement:
    """What the student's process must not see: `protected` (every copy of the grader and the
    model answer, the catalogues) is hidden for good in the worker, blocked and flagged;
    `hidden` folders (the class being graded, the outputs) appear empty to this submission."""

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
    # The series' own class, the questions it answers, and the assignment's adapter (source
    # text, run in the student's process) that makes it answer them.
    series_class: str = ""
    series_questions: tuple[str, ...] = ()
    series_adapter: str = ""
    # The series' support modules a student may import without handing them in (`from partOne
    # import *`), and what a stand-in for one runs (the series' data, never an answer).
    series_modules: tuple[str, ...] = ()
    series_standin: str = ""
    # J of the student's own functions, for the own-gradient call (see child/calls.py's
    # own_cost_values): an expression over them and the call's arguments, named in order
    # (epsilon last, unnamed), and the arguments whose every entry is pushed up and down.
    own_cost: str = ""
    own_cost_arguments: tuple[str, ...] = ()
    own_cost_weights: tuple[str, ...] = ()
    # Inside the judged calls of `one_number_inside`, what the student's `one_number` function
    # gives as a row (J per output) is passed on as its total (see child/calls.py's Tracer).
    one_number: str = ""
    one_number_inside: tuple[str, ...] = ()
    # The grading seed: numpy's and random's generators in the student's process start from it,
    # again before each call, so that code drawing random numbers gets the same grade every run.
    seed: int = 0

    @property
    def own_cost_spec(self) -> dict[str, Any]:
        """The own-gradient call's J as `own_cost_values` reads it (empty: none)."""
        if not self.own_cost:
            return {}
        return {"J": self.own_cost, "arguments": list(self.own_cost_arguments),
                "weights": list(self.own_cost_weights)}


@dataclass(frozen=True)
class Call:
    """One call to make: the first of `names` that is defined, with plain arguments."""

    key: int
    names: tuple[str, ...]
    args: tuple
    group: str  # the question: its calls are skipped after one of them times out
    read: bool = False  # the answer is the values of `names`, module-level constants
    # Calls are sent in stages: a call's stage comes after every question whose answer its
    # arguments hold has been answered, so that no answer reaches the process before its time.
    # Stage 0 (arguments that hold no answer) is held by each worker's fork server for a class.
    stage: int = 0
    # Right answers the graded functions this call uses give instead of the student's own,
    # each (question id, arguments in the stub's order, answer): is the student's function
    # right given right answers from what it builds on? Only in the last stage.
    given: tuple[tuple[str, tuple, Any], ...] = ()
    given_for: int | None = None  # the key of the judged call it repeats
    # Fingerprints of the model's graded calls it is given (see protocol.fingerprint): where the
    # judged call made only those, the runner does not make this call.
    known: tuple[bytes, ...] = ()

    @cached_property
    def frame(self) -> bytes:
        """The call as the worker receives it (made once: a class sends the same calls)."""
        # A list of CALL_FIELDS, as the runner reads it. The answers given travel as bytes of
        # their own, read only where the call is made.
        given = _encode([[question, list(args), answer] for question, args, answer in self.given]) \
            if self.given else None
        fields = {"key": self.key, "names": list(self.names), "question": self.group, "args": list(self.args),
                  "read": self.read, "given": given, "given_for": self.given_for, "known": list(self.known)}
        return _wire.frame(ToWorker.CALL, KEY.pack(self.key) + _encode([fields[name] for name in CALL_FIELDS]))


@dataclass(frozen=True, eq=False)  # compared by identity: one node is one recorded call
class Traced:
    """A graded function that a judged call used, as the student's process recorded it: its
    question, the arguments in the stub's order (None if they could not be matched), and
    what it gave back (or raised), with the graded calls it made in turn."""

    function: str
    args: tuple | None
    status: str  # returned or raised
    value: Any = None
    calls: tuple[Traced, ...] = ()
    error: str | None = None  # the exception's type, where it raised
    # Which arguments (by position) were np.matrix, and whether what it gave back was ("r").
    matrix: str = ""

    def handed_matrix(self) -> bool:
        return any(c.isdigit() for c in self.matrix)

    def gave_matrix(self) -> bool:
        return "r" in self.matrix


@dataclass(frozen=True)
class CallOutcome:
    """What happened to one call: status is returned, raised, missing, refused, skipped (a call
    given right answers its runner found it did not need), timeout or crashed."""

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
    error: str | None = None  # the exception's type, where it raised
    # Which arguments (by position) were np.matrix, and whether what it gave back was ("r").
    matrix: str = ""

    def handed_matrix(self) -> bool:
        return any(c.isdigit() for c in self.matrix)

    def gave_matrix(self) -> bool:
        return "r" in self.matrix
    # False for a call the worker never made (an earlier case of its question ran out of time
    # or ended the process, the budget ran out, the submission interfered); True for one that
    # ran, whether it returned, raised, or was running when it timed out or its process ended.
    ran: bool = True
    # The trace as the worker sent it, read only when a verdict needs it (a right answer never
    # does), with the questions its nodes may name.
    trace_data: bytes | None = field(default=None, repr=False)
    trace_questions: frozenset[str] = field(default=frozenset(), repr=False)

    @cached_property
    def used(self) -> tuple[Traced, ...]:
        """The graded functions the call used; a forged or broken trace is no trace at all
        (nothing is carried forward from it)."""
        if self.trace_data is None:
            return self.trace
        try:  # its arguments and values within an answer's budget, and its nodes' few words
            nodes = _wire.decode(self.trace_data, np, max_bytes=2 * _wire.MAX_ANSWER, max_text=_wire.MAX_TEXT,
                                 unsupported=Unsupported)
            return decode_trace(nodes, self.trace_questions)
        except (_wire.ProtocolError, ValueError, RecursionError):
            return ()


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


def _encode(value: Any) -> bytes:
    return _wire.make_encoder(np)(value, [10 ** 8])


def run(cells: list[Cell], calls: list[Call], limits: Limits = Limits(),
        confinement: Confinement = Confinement(), modules: tuple[Module, ...] = (),
        contract: Contract = Contract()) -> RunResult:
    """Load the cells in a fresh sandboxed process and make the calls; never raises for
    anything the student's code does (SandboxError is the sandbox's own failure)."""
    if _cancelled.is_set():
        raise SandboxError("cancelled: the grader is stopping")
    job = _job(cells, calls, limits, confinement, modules, contract)
    try:
        frames, mode = processes.run(job, tuple(sorted(confinement.protected)),
                                     limits.budget + _SLACK_SECONDS)
    except (processes.WorkerError, OSError) as exc:
        raise SandboxError(str(exc)) from None
    if _cancelled.is_set():
        raise SandboxError("cancelled: the grader is stopping")
    return _result(frames, calls, limits, mode)


def _job(cells: list[Cell], calls: list[Call], limits: Limits, confinement: Confinement,
         modules: tuple[Module, ...], contract: Contract) -> bytes:
    program = {"cells": [{"source": c.source, "filename": c.filename} for c in cells],
               "modules": {m.name: {"source": m.source, "filename": m.filename} for m in modules},
               **_contract(contract),
               "max_answer": limits.max_answer_bytes, "memory_mb": limits.memory_mb}
    stages_key = tuple((c.key, c.group, c.stage, c.read, bool(c.given)) for c in calls)
    # The program crosses the worker as bytes it passes on unread; it is told only how many
    # lines there are (its bound on fresh runners after timeouts).
    header = {**_unchanging(limits, confinement, stages_key), "program": _encode(program),
              "statements": sum(c.source.count("\n") + 1 for c in cells)}
    return b"".join([_wire.frame(ToWorker.JOB, _encode(header)), *(c.frame for c in calls),
                     _wire.frame(ToWorker.END_OF_JOB)])


@lru_cache(maxsize=32)
def _unchanging(limits: Limits, confinement: Confinement, stages_key: tuple) -> dict:
    """The parts of a job that a whole class shares, encoded once."""
    # Stage 0 is always first, if empty: the worker has the fork server hold the first stage's
    # calls, which must be those whose arguments hold no answer (see Call.stage).
    stages: dict[int, list] = {0: []}
    # Constants are read first: reading them runs none of the student's functions.
    for key, group, stage, _, _ in sorted(stages_key, key=lambda c: (c[2], not c[3])):
        stages.setdefault(stage, []).append([key, group])
    # What the student's code prints from the stage of calls "given right answers" on is not
    # kept: given the model's answers, it could print them into its own feedback.
    given = sorted({stage for _, _, stage, _, has_given in stages_key if has_given})
    quiet_from = sorted(stages).index(given[0]) if given else None
    return {
        "limits": _wire.Encoded(_encode({
            "timeout": limits.timeout, "budget_timeouts": limits.budget_timeouts,
            "budget": limits.budget, "memory_mb": limits.memory_mb,
            "max_output": limits.max_output, "max_output_total": limits.max_output_total,
            "max_answers": limits.max_answers_total, "disk_mb": limits.disk_mb})),
        "stages": _wire.Encoded(_encode([stages[stage] for stage in sorted(stages)])),
        "quiet_from": quiet_from,
        "plan": _wire.Encoded(_encode({
            "hide": sorted({os.path.realpath(p) for p in confinement.hidden}),
            "protected": sorted({os.path.realpath(p) for p in confinement.protected}),
            "report_copies": confinement.report_copies, "env": processes.environment(),
            "outside": processes.namespaces(),
            "disk_mb": limits.disk_mb})),
    }


@lru_cache(maxsize=8)
def _contract(contract: Contract) -> dict:
    """The contract as the runner reads it, encoded once."""
    return {"graded": _wire.Encoded(_encode(dict(contract.graded))),
            "params": _wire.Encoded(_encode({q: list(p) for q, p in contract.params})),
            "series": _wire.Encoded(_encode({"class": contract.series_class,
                                             "questions": list(contract.series_questions),
                                             "adapter": contract.series_adapter,
                                             "modules": list(contract.series_modules),
                                             "standin": contract.series_standin})),
            "own_cost": _wire.Encoded(_encode(contract.own_cost_spec)),
            "one_number": _wire.Encoded(_encode({"function": contract.one_number,
                                                 "inside": list(contract.one_number_inside)})),
            "seed": contract.seed}


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_MATRIX = re.compile(r"[0-9]{0,10}r?")


def _names(values: Any, limit: int = 1000) -> tuple[str, ...]:
    """Identifiers from a list the student's process sent; anything else is dropped."""
    if not isinstance(values, list):
        return ()
    return tuple(v for v in values[:limit] if isinstance(v, str) and _NAME.fullmatch(v))


def _text(value: Any, limit: int = 500) -> str:
    """A message of the student's process, as it may be shown: bounded, one line, no escapes."""
    return printable(value[:limit]) if isinstance(value, str) else ""


def _whole(value: Any) -> int | None:
    """A line or cell number: an int, or None for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _result(frames: list[tuple[bytes, bytes]], calls: list[Call], limits: Limits, mode: dict | None) -> RunResult:
    """The run, read from the worker's frames; every field checked, anything else ignored."""
    reading = _Reading(calls, limits, mode or {})
    for kind, body in frames:
        take = _READERS.get(kind)
        if take is None:
            continue
        try:
            take(reading, kind, body)
        except (_wire.ProtocolError, struct.error, AttributeError, TypeError, ValueError):
            continue  # a frame that does not read is dropped
    return reading.result(calls)


class _Reading:
    """What the worker's frames have said of a run so far (FromWorker, one method each)."""

    def __init__(self, calls: list[Call], limits: Limits, mode: dict) -> None:
        self.known = {call.key for call in calls}
        self.questions = frozenset(call.group for call in calls)
        self.limits, self.mode = limits, mode
        self.outcomes: dict[int, CallOutcome] = {}
        self.problems: dict[tuple[int, int | None], LoadProblem] = {}
        self.flags: list[str] = []
        self.names: dict[bytes, list[str]] = {FromWorker.MISSING: [], FromWorker.STANDIN: []}
        self.defined: tuple[str, ...] = ()
        self.fragments: tuple[str, ...] = ()
        self.isolation: dict = {}
        self.output, self.output_total = "", 0

    def failed(self, kind: bytes, body: bytes) -> None:
        raise SandboxError(body.decode("utf-8", "replace")[:300])

    def call(self, kind: bytes, body: bytes) -> None:
        """A result, a plain answer, or the worker's outcome: the first for each call asked."""
        key = KEY.unpack_from(body)[0]
        if key in self.known and key not in self.outcomes:
            self.outcomes[key] = _outcome(kind, body[KEY.size:], self.questions, self.limits)

    def error(self, kind: bytes, body: bytes) -> None:
        cell, _, line = STATEMENT.unpack_from(body)
        message = _text(body[STATEMENT.size:].decode("utf-8", "replace"))
        self.problems.setdefault((cell, line or None), LoadProblem(cell, line or None, message, "raised"))

    def overran(self, kind: bytes, body: bytes) -> None:
        record = _wire.decode(body, np)
        cell, line = _whole(record.get("cell")), _whole(record.get("line"))
        if cell is not None and record.get("kind") in ("timeout", "crashed"):
            self.problems[(cell, line)] = LoadProblem(cell, line, _text(record.get("message")), record["kind"])

    def flag(self, kind: bytes, body: bytes) -> None:
        text = body.decode("utf-8", "replace")
        if text in FLAGS and text not in self.flags:
            self.flags.append(text)

    def name(self, kind: bytes, body: bytes) -> None:
        """A package missing here, or a series' module given as a stand-in: up to 20 of each."""
        names = self.names[kind]
        name = body.decode("utf-8", "replace")
        if _NAME.fullmatch(name) and name not in names and len(names) < 20:
            names.append(name)

    def loaded(self, kind: bytes, body: bytes) -> None:
        record = _wire.decode(body, np, max_bytes=_wire.MAX_RUNNER_FRAME, max_text=_wire.MAX_TEXT,
                              unsupported=Unsupported)
        self.defined, self.fragments = _names(record.get("defined")), _names(record.get("fragments"))

    def isolated(self, kind: bytes, body: bytes) -> None:
        if not self.isolation:
            self.isolation = _wire.decode(body, np, max_bytes=_wire.MAX_ANSWER, max_text=_wire.MAX_TEXT,
                                          unsupported=Unsupported)

    def end(self, kind: bytes, body: bytes) -> None:
        record = _wire.decode(body, np)
        raw = record.get("output") if isinstance(record.get("output"), bytes) else b""
        self.output = printable(raw[:self.limits.max_output].decode("utf-8", "replace"), lines=True)
        self.output_total = _whole(record.get("output_total")) or 0
        self.mode = {**self.mode, "hidden": [p for p in record.get("hidden") or [] if isinstance(p, str)]}

    def result(self, calls: list[Call]) -> RunResult:
        for call in calls:  # the worker accounts for every call; this is a last guard
            self.outcomes.setdefault(call.key, CallOutcome("crashed", ran=False,
                                                           message="the process ended before this call was made"))
        ordered = tuple(sorted(self.problems.values(), key=lambda p: (p.cell, p.line or 0)))
        return RunResult(self.outcomes, ordered, self.defined, self.output, self.output_total, tuple(self.flags),
                         {**self.isolation, "worker": self.mode}, tuple(self.names[FromWorker.MISSING]),
                         tuple(self.names[FromWorker.STANDIN]), self.fragments)


_READERS: dict[bytes, Callable[[_Reading, bytes, bytes], None]] = {
    FromWorker.FAILED: _Reading.failed,
    FromWorker.RESULT: _Reading.call, FromWorker.ANSWER: _Reading.call, FromWorker.OUTCOME: _Reading.call,
    FromWorker.ERROR: _Reading.error,
    FromWorker.OVERRAN: _Reading.overran,
    FromWorker.FLAG: _Reading.flag,
    FromWorker.MISSING: _Reading.name, FromWorker.STANDIN: _Reading.name,
    FromWorker.LOADED: _Reading.loaded,
    FromWorker.ISOLATION: _Reading.isolated,
    FromWorker.END: _Reading.end,
}


def _answer(data: bytes, limits: Limits, precision: set[str]) -> Any:
    """An answer, decoded only if it is within its budget of bytes (the worker has checked
    that already; the grader trusts no one): an answer claiming more is never decoded."""
    return _wire.decode(data, np, max_bytes=limits.max_answer_bytes, precision=precision,
                        max_text=_wire.MAX_TEXT, unsupported=Unsupported)


def _outcome(kind: bytes, body: bytes, questions: frozenset[str], limits: Limits) -> CallOutcome:
    """A call's outcome from its frame: a plain answer (ANSWER), the runner's result (RESULT)
    or the worker's verdict (OUTCOME); what does not read is refused."""
    precision: set[str] = set()
    try:
        if kind == FromWorker.ANSWER:  # a plain answer: the value alone
            value = _answer(body, limits, precision)
            return CallOutcome("returned", value=value, precision=min(precision) if precision else None)
        record = _record(kind, body, limits, precision)
    except (_wire.ProtocolError, ValueError, TypeError) as exc:
        return CallOutcome("refused", message=f"returned a value that could not be read ({_text(str(exc), 200)})")
    if not isinstance(record, dict):
        return CallOutcome("refused", message="returned a value that could not be read")
    if kind == FromWorker.OUTCOME:  # decided by the worker
        status = record.get("status")
        return CallOutcome(status if status in WORKER_STATUSES else "crashed", message=_text(record.get("message")),
                           ran=record.get("ran") is True)
    return _from_result(record, questions, precision)


def _record(kind: bytes, body: bytes, limits: Limits, precision: set[str]) -> Any:
    """The record a frame holds: a result (a list of RESULT_FIELDS) as a dict, its answer
    decoded (a record and its answer are bytes of their own, each decoded when read)."""
    record = _wire.decode(body, np, max_bytes=_wire.MAX_RUNNER_FRAME, max_text=_wire.MAX_TEXT,
                          unsupported=Unsupported)
    if kind == FromWorker.RESULT and isinstance(record, list) and len(record) == len(RESULT_FIELDS):
        record = dict(zip(RESULT_FIELDS, record, strict=True))
        if record["status"] == "returned":
            if not isinstance(record["value"], bytes):
                raise _wire.ProtocolError("an answer that is not an encoded value")
            record["value"] = _answer(record["value"], limits, precision)
    return record


def _from_result(record: dict, questions: frozenset[str], precision: set[str]) -> CallOutcome:
    """The runner's result (returned, raised, missing, refused or skipped), every field checked."""
    status = record.get("status")
    via = "class" if record.get("via") == "class" else None
    trace = {"trace_data": record["trace"], "trace_questions": questions} \
        if isinstance(record.get("trace"), bytes) else {}
    truncated = record.get("truncated") is True
    reordered = _names(record.get("reordered"), 10) or None
    if status == "returned":
        return CallOutcome("returned", value=record.get("value"), via=via, truncated=truncated,
                           reordered=reordered, precision=min(precision) if precision else None, **trace)
    if status == "skipped":  # a call given right answers the runner found it did not need
        return CallOutcome("skipped")
    if status in ("raised", "missing", "refused"):
        error = record.get("error")
        return CallOutcome(status, message=_text(record.get("message")), cell=_whole(record.get("cell")),
                           line=_whole(record.get("line")), via=via,
                           truncated=truncated, reordered=reordered,
                           error=error if isinstance(error, str) and _NAME.fullmatch(error) else None, **trace)
    return CallOutcome("refused", message="returned a value that could not be read")


_MAX_TRACED = 256


def decode_trace(nodes: Any, questions: Collection[str], depth: int = 0, seen: list[int] | None = None
                 ) -> tuple[Traced, ...]:
    """A judged call's trace, checked node by node; ValueError if malformed."""
    seen = [0] if seen is None else seen
    if not isinstance(nodes, list) or depth > 8:
        raise ValueError("malformed trace")
    traced = []
    for fields in nodes:
        seen[0] += 1
        if not isinstance(fields, list) or len(fields) != len(TRACE_FIELDS):
            raise ValueError("malformed trace")
        node = dict(zip(TRACE_FIELDS, fields, strict=True))
        if seen[0] > _MAX_TRACED or node["f"] not in questions:
            raise ValueError("malformed trace")
        args = node.get("args")
        if args is not None and not isinstance(args, list):
            raise ValueError("malformed trace")
        status = "raised" if node.get("raised") is not None else "returned"
        calls = decode_trace(node.get("calls") or [], questions, depth + 1, seen)
        error = node["raised"] if isinstance(node.get("raised"), str) and _NAME.fullmatch(node["raised"]) else None
        matrix = node.get("matrix")
        matrix = matrix if isinstance(matrix, str) and _MATRIX.fullmatch(matrix) else ""
        traced.append(Traced(node["f"], None if args is None else tuple(args), status,
                             node.get("value") if status == "returned" else None, calls, error, matrix))
    return tuple(traced)


def probe(confinement: Confinement = Confinement(), limits: Limits = Limits()) -> dict:
    """The protections a submission gets on this machine, as its own process reports them."""
    result = run([Cell("pass", "probe.py")], [], limits, confinement)
    return result.isolation
