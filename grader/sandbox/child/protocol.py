"""The sandbox's vocabulary, defined once: what each frame means on each channel, the layouts
of their fixed-size bodies, the order of a record's fields, the flags a run may raise.

Both sides import this module: the grader as `grader.sandbox.child.protocol`, the program that
runs student code as a part of its own package. Standard library only. A reviewer reads it
first, then each side.

Four processes, three channels, each a stream of frames (see `wire`: a 4-byte length, a one-byte
kind, a body):

    grader  --ToWorker-->        worker  --ToForkServer-->    fork server
    grader  <--FromWorker--      worker  <--FromForkServer--  fork server
                                 worker  --ToRunner-->        runner (student code)
                                 worker  <--FromRunner--      runner

No letter means two things anywhere: a frame the worker passes on from the runner to the
grader keeps its letter and its meaning (FromWorker repeats those of FromRunner).
"""

from __future__ import annotations

import enum
import struct
from types import ModuleType
from typing import Any


class ToWorker(bytes, enum.Enum):
    """The grader to a worker: its settings once, then jobs, each JOB, CALL..., END_OF_JOB."""

    SETTINGS = b"W"  # what the worker is for (a record: namespaces, user, folders to hide...)
    JOB = b"J"  # a job's header (a record: limits, stages, plan, the program as bytes)
    CALL = b"C"  # one call of the job: KEY, then its record (CALL_FIELDS)
    END_OF_JOB = b"Q"  # no more frames in this job


class FromWorker(bytes, enum.Enum):
    """A worker to the grader: READY once, then per job the runner's frames that passed the
    worker's checks (as FromRunner names them) and the worker's own, up to END."""

    READY = b"w"  # what the worker has in force (a record)
    # The runner's, passed on (see FromRunner).
    ISOLATION = b"I"
    ERROR = b"E"
    MISSING = b"M"
    STANDIN = b"D"
    LOADED = b"L"
    RESULT = b"R"
    ANSWER = b"V"
    # The worker's own.
    FLAG = b"G"  # a flag (the runner's, checked, or the worker's own): its text
    OUTCOME = b"O"  # KEY, then a call's outcome the worker decided: {status, message}
    OVERRAN = b"Y"  # a top-level statement that overran or ended the process: {cell, line, message, kind}
    FAILED = b"!"  # the sandbox's own failure: no student code ran, or no more did (its text)
    END = b"Z"  # the job's end: {output, output_total, hidden}


class ToForkServer(bytes, enum.Enum):
    """A worker to its fork server."""

    HIDE = b"H"  # folders to hide from now on, one per line
    HOLD_CALLS = b"B"  # a class's first-stage calls (an encoded list), held decoded for every runner
    FORK = b"F"  # fork a runner, on the three descriptors sent with this frame
    KILL = b"K"  # kill the runner now


class FromForkServer(bytes, enum.Enum):
    """A fork server to its worker."""

    HIDDEN = b"h"  # what it hid: {hidden, failures, notes}
    HELD = b"b"  # COUNT: how many calls it holds
    FORKED = b"p"  # COUNT: the runner's pid
    ENDED = b"x"  # STATUS, then COUNT: how the runner ended, and how many processes it left


class ToRunner(bytes, enum.Enum):
    """A worker to its runner: PROGRAM, PLAN, then a STAGE at a time until NO_MORE."""

    PROGRAM = b"P"  # the cells, modules and contract, as the grader encoded them
    PLAN = b"T"  # {plan: the runner's isolation, stop_at: the cells to run a statement at a time}
    STAGE = b"N"  # the next stage's calls: a list, each a record (CALL_FIELDS) or the key of one held
    NO_MORE = b"X"  # no more calls: exit


class FromRunner(bytes, enum.Enum):
    """A runner to its worker: FAILED or ISOLATION first; while its cells load, CELL and
    STATEMENT announcements, ERROR, MISSING, STANDIN, FLAG; then LOADED; then a RESULT or an
    ANSWER for each call asked, in order. The worker checks each against what it may say."""

    FAILED = b"!"  # a protection could not be put in place: no student code runs (its text)
    ISOLATION = b"I"  # what is in force, read back from the kernel (a record)
    CELL = b"A"  # STATEMENT layout: a cell about to run whole (cell, 0, 0)
    STATEMENT = b"S"  # STATEMENT layout: a statement about to run, in a cell run a statement at a time
    ERROR = b"E"  # STATEMENT layout (cell, 0, line), then the error's text: a top-level error
    MISSING = b"M"  # a package not installed here that the code imported: its name
    STANDIN = b"D"  # a series' support module given as a stand-in: its name
    FLAG = b"G"  # what the student's code tried (one of RUNNER_FLAGS)
    LOADED = b"L"  # the cells have run: {defined, fragments}
    RESULT = b"R"  # KEY, then a call's result: a list of RESULT_FIELDS
    ANSWER = b"V"  # KEY, then a call's answer alone (it returned, nothing else to say)


CHANNELS: tuple[type[enum.Enum], ...] = (ToWorker, FromWorker, ToForkServer, FromForkServer, ToRunner, FromRunner)

# The layouts of bodies (and of their fixed-size heads). Big-endian, as the wire's lengths.
LENGTH = struct.Struct(">I")  # a frame's length (kind and body); a value's lengths and counts
KEY = struct.Struct(">I")  # a call's key, first in CALL, RESULT, ANSWER and OUTCOME
STATEMENT = struct.Struct(">HII")  # cell, statement index, line: CELL, STATEMENT, ERROR
COUNT = struct.Struct(">I")  # a number the fork server reports: calls held, a pid, processes left
STATUS = struct.Struct(">i")  # how a runner ended: its exit code, or minus the signal that ended it

# Records cross as lists, their fields in these orders: text keys would cost more than the
# numbers they carry.
CALL_FIELDS = ("key", "names", "question", "args", "read", "given", "given_for", "known")
RESULT_FIELDS = ("status", "value", "message", "cell", "line", "via", "trace", "truncated", "reordered",
                 "error")
# A judged call's trace: a list of nodes, each a list of these (calls: the nodes below it;
# matrix: which of its arguments, by position, and "r" for what it gave back, were np.matrix,
# on which `*` and `**` mean other things: the values cross as plain arrays).
TRACE_FIELDS = ("f", "args", "value", "raised", "calls", "matrix")
# A result's status is how the runner's call went: returned, raised, missing (not defined),
# refused (an answer too big to send) or skipped (a call given right answers it did not need).
# An outcome's is what the worker decided:
WORKER_STATUSES = ("timeout", "crashed", "refused")

# Not a question: J of the student's own functions with each weight pushed up and down (see
# `calls.own_cost_values`), from which the grader takes a numerical gradient.
OWN_COST = "_own_cost"

# A runner's exit code when its channel from the worker closed under it.
LOST_CHANNEL = 75

# The largest frame between a worker and its fork server, either way (the fork server's report
# of every hidden path; a class's first-stage calls to hold, which are not held if larger).
FORK_SERVER_FRAME = 1 << 20


def plain_name(name: str) -> bool:
    """A name a runner may report (a missing package, a series module): what the worker passes
    on, 1 to 100 ASCII letters, digits and underscores."""
    return 0 < len(name) <= 100 and name.isascii() and name.replace("_", "").isalnum()


class Flag(str, enum.Enum):
    """What a submission tried that it should not: raised from inside by the runner (best
    effort: the student's code shares its process) or seen from outside by the worker. No
    other text is passed on."""

    IMPORTED_GRADER = "imported grader"
    IMPORTED_SOLUTIONS = "imported solutions"
    OPENED_FILES = "opened the grader's files"
    USED_NETWORK = "used the network"
    STARTED_PROCESS = "started a process"
    STARTED_PROGRAM = "started a program"
    # The worker's own.
    INTERFERED = "interfered with the grader"
    LEFT_PROCESSES = "left processes running"
    SILENCED = "silenced its channel to the grader"


FLAGS = frozenset(flag.value for flag in Flag)
RUNNER_FLAGS = frozenset(flag.value for flag in (
    Flag.IMPORTED_GRADER, Flag.IMPORTED_SOLUTIONS, Flag.OPENED_FILES, Flag.USED_NETWORK,
    Flag.STARTED_PROCESS, Flag.STARTED_PROGRAM))


def fingerprint(question_id: str, args: Any, answer: Any, np: ModuleType) -> bytes:
    """A call of a graded function and its answer, exactly, as a short digest, computed alike
    on both sides: the grader sends those of the model's calls with each call "given right
    answers", so that the runner can tell, without the answers themselves, that every graded
    call the judged call made was the model's, to the last bit (then nothing could be carried
    forward, and the call is not made; an answer right but for rounding only costs the call)."""
    import hashlib  # here: its C library is not part of every worker's start

    digest = hashlib.blake2b(str(question_id).encode(), digest_size=16)

    def add(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            digest.update(b"(%d" % len(value))
            for part in value:
                add(part)
            return
        try:
            array = value if type(value) is np.ndarray and value.dtype == np.float64 else \
                np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            digest.update(repr(value).encode())
            return
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())

    add(list(args))
    add(answer)
    return digest.digest()
