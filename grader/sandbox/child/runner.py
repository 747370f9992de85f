"""The runner: the one process where student code runs, one per submission (and again after a
timeout), forked by the worker's clean fork server so that it starts with nothing of any other
submission in its memory.

Part of the program that runs student code (one of the parts `processes.child_boot` runs). It
reads its plan and the student's cells from the worker, isolates itself (its own System V IPC,
in the worker's namespaces where /tmp, /var/tmp and /dev/shm are private and wiped after each
runner and the private folders hidden; a user of the grader's own or no capabilities; resource
limits), installs an audit hook that blocks and flags reaching for the answer key, runs each
cell whole (a statement at a time once it overran), then answers the calls the worker sends it,
stage by stage: a call arrives only once every question whose answer its arguments hold has
been answered. It decides nothing: the worker and the grader check all it says.

Frames it sends (see _wire): I isolation record, A a cell about to run whole (cell), S a
statement about to run, in a cell run a statement at a time (cell, index, line), E error at top
level, M missing module, D series stand-in served, G flag, L loaded record, R result (call key,
then a list of RESULT_FIELDS, the value as bytes of its own), V a plain answer (call key, then
the value alone). Frames it reads: P the program (cells, modules, contract) as the grader
encoded it, T the worker's plan for this runner and, after a timeout, which cells to run a
statement at a time and where to stop, K a stage's calls, X no more calls.
"""

import ast
import json
import os
import signal
import struct
import sys
import traceback
import types

# Every flag a runner may raise; the worker passes no other text on.
FLAGS = ("imported grader", "imported solutions", "opened the grader's files", "used the network",
         "started a process", "started a program")
_STMT = struct.Struct(">HII")
# The runner's exit code when its channel from the worker closed under it.
LOST_CHANNEL = 75
# Records cross as lists, their fields in these orders: text keys would cost more than the
# numbers they carry.
CALL_FIELDS = ("key", "names", "question", "args", "read", "given", "given_for", "known")
RESULT_FIELDS = ("status", "value", "message", "cell", "line", "via", "trace", "truncated", "reordered",
                 "error")
TRACE_FIELDS = ("f", "args", "value", "raised", "calls")
_KEY = struct.Struct(">I")


class Channel:
    """The runner's two pipes to the worker."""

    def __init__(self, read_fd, write_fd):
        self.read_fd, self.write_fd, self.reader = read_fd, write_fd, FrameReader()
        self.pending = []
        # Bound now: sending may happen while student code has patched builtins (mid-cell).
        self._write, self._pack, self._len, self._view = os.write, _LENGTH.pack, len, memoryview

    def send(self, kind, body=b""):
        data = self._view(self._pack(self._len(body) + 1) + kind + body)
        try:
            while data:
                data = data[self._write(self.write_fd, data):]
        except OSError:  # the worker has gone, or the student's code closed this end
            os._exit(LOST_CHANNEL)

    def receive(self):
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

    def __init__(self, np, seccomp=None):
        self.libc = Libc()
        # The syscall filter (see syscall_filter), ready for the kernel, or None.
        self.seccomp = None if seccomp is None else Filter(seccomp)
        self.landlock = None  # the fork server's Landlock ruleset (a descriptor), or None
        self.landlock_abi = 0  # the Landlock ABI it was made for
        self.bounded = False  # whether the fork server emptied the bounding set, for all runners
        self.last_capability = last_capability()
        self.encode = make_encoder(np, MAX_TEXT)
        # Standard input is /dev/null (the worker's, and each runner's again): read from a
        # stream made before any runner, which has nothing buffered.
        self.stdin = open(0, closefd=False)
        # The class's first-stage calls, decoded once (key -> CALL_FIELDS): a stage names them
        # by key. Each runner has its own copy of them (the fork's), and takes each call out as
        # it answers it: nothing a student's code does to its arguments reaches another call or
        # another runner. Only the first stage: a later stage's arguments hold answers, which
        # must not reach a runner before their question is answered. Nothing here is of any
        # submission: the grader makes the calls from its seed.
        self.calls = {}

    def prepare_calls(self, body, np):
        """The calls in `body` (a list, as a stage carries them), from now on held here."""
        self.calls = {fields[0]: fields for fields in decode(body, np)}
        return len(self.calls)


def runner_main(read_fd, write_fd, output_fd, prepared):
    """After the fork: become a fresh process, isolate, run the student's code, exit."""
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() fails at once
    for fd in (devnull, output_fd):
        os.close(fd)
    keep = sorted({0, 1, 2, read_fd, write_fd} | ({prepared.landlock} if prepared.landlock is not None else set()))
    for low, high in zip(keep, keep[1:] + [65536]):  # nothing of the worker's stays open
        os.closerange(low + 1, high)
    sys.stdin = prepared.stdin
    channel = Channel(read_fd, write_fd)
    import numpy as np

    encode = prepared.encode
    try:
        kind, body = channel.receive()
        program = decode(body, np) if kind == b"P" else {}
        kind, body = channel.receive()
        setup = decode(body, np) if kind == b"T" else {}
        stop_at, program["plan"] = setup.get("stop_at", {}), setup.get("plan", {})
        report = isolate(program["plan"], prepared)
    except SetupError as exc:  # a protection that could not be put in place: no student code
        channel.send(b"!", str(exc)[:300].encode())
        os._exit(1)
    except Exception as exc:  # the sandbox's own failure, before any student code: say what
        channel.send(b"!", f"could not start: {type(exc).__name__}: {exc}"[:300].encode())
        os._exit(1)
    channel.send(b"I", encode(report, [UNLIMITED]))
    run_program(program, stop_at, channel, encode, np, prepared.calls)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: B036 - the student may have replaced or closed them
        pass
    os._exit(0)


def isolate(plan, prepared):
    """Confine this process as the plan says, every step checked with the kernel's own word:
    a step that fails raises SetupError ("could not ..."), and no student code runs (the
    sandbox fails closed, as nsjail's does). Returns what is in force, read back from the
    kernel (in full, its namespaces and what it can read of the key's copies, for
    --sandbox-info)."""
    libc, linux = prepared.libc, sys.platform.startswith("linux")
    if plan.get("namespaces"):  # the worker's private /tmp, wiped after each runner
        step("make its own IPC namespace", libc.check, libc.unshare(CLONE_NEWIPC), "unshare")
        step("enter its private /tmp", os.chdir, "/tmp")
    else:
        step("enter its own folder", os.chdir, plan.get("scratch") or "/")
    wanted = plan.get("env", {})
    if os.environ != wanted:  # as a rule the fork server's already (see fork_server)
        os.environ.clear()
        os.environ.update(wanted)
    limits = limit_resources(plan.get("limits", {"memory_mb": 0, "cpu_seconds": 60}),
                             plan.get("processes"), strict=linux)
    identity = plan.get("identity", "own")
    if identity == "pool":  # root: a user of the grader's own, and root's powers gone for good
        step("become a user of the grader's own", become, plan["uid"], plan["gid"])
        users = os.getresuid() + os.getresgid() if hasattr(os, "getresuid") else \
            (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
        if set(users) != {plan["uid"], plan["gid"]} or os.getgroups():
            raise SetupError(f"could not become a user of the grader's own: uids and gids {users}, "
                             f"groups {os.getgroups()} in effect")
    elif identity == "no-capabilities" or plan.get("userns"):
        step("drop every capability", drop_capabilities, libc)
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
    # The bounding set is the fork server's to empty (see FileView): wherever it could.
    must_be_empty = [name for name in CAPABILITY_SETS if name != "CapBnd" or prepared.bounded]
    if any(held[name] != 0 for name in must_be_empty if name in held):
        raise SetupError("could not drop every capability: " + ", ".join(
            f"{name} {held[name] if held[name] is None else hex(held[name])}"
            for name in must_be_empty if held.get(name) != 0))
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


def _read_back(plan, held):
    """What --sandbox-info shows beyond what every runner checks: its ids, capability sets,
    the namespaces it does not share with the grader, and what it can read of each copy of
    the answer key."""
    outside = plan.get("outside", {})
    found = {"uid": list(os.getresuid()), "gid": list(os.getresgid()), "groups": os.getgroups(),
             "capabilities": {name: value for name, value in held.items() if value is not None},
             "own_namespaces": sorted(name for name in ("ipc", "mnt", "pid", "net", "user")
                                      if name in outside and _namespace(name) not in (None, outside[name])),
             "copies": {path: what_can_be_read(path) for path in plan.get("protected", ())},
             "problems": []}
    if plan.get("identity") == "pool" and not os.access(os.path.join(sys.prefix, "lib"), os.R_OK | os.X_OK):
        found["problems"].append("student code cannot read the Python installation here: only "
                                 "modules imported before it started can be imported")
    return found


def _namespace(name):
    """This process's namespace of a kind, as the kernel names it (None where it can't say)."""
    try:
        return os.readlink(f"/proc/self/ns/{name}")
    except OSError:
        return None


def what_can_be_read(path):
    """What this process can read of a copy of the answer key: hidden (gone or empty),
    confined (Landlock refuses what permissions would allow), unreadable (permissions refuse
    it) or readable."""
    def refused():
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


def install_audit_hook(channel, protected):
    """Block and flag the answer key and the network; flag processes and programs started.
    Audit hooks can't be removed once added (PEP 578). A relative path is resolved against the
    working folder and against every open folder descriptor, so that opening with dir_fd (or
    after fchdir) is caught too. Best-effort for the flags: the student's code shares this
    process and can silence its channel; the worker sees what it can from outside."""
    realpath, join, fspath, listdir, readlink = (os.path.realpath, os.path.join, os.fspath,
                                                 os.listdir, os.readlink)
    isdir, getcwd, send, encode_text = os.path.isdir, os.getcwd, channel.send, str.encode
    _isinstance, _hasattr, _any, _str, _bytes, _int = isinstance, hasattr, any, str, bytes, int
    flagged = set()

    def flag(text):
        if text not in flagged:
            flagged.add(text)
            send(b"G", encode_text(text))

    def refuse_import(name):
        root = _str(name).split(".")[0]
        # The grader, or the model answers: `assignments` (and its old name, `solutions`), or
        # a model answer under the name the grader loads it by.
        if root in ("grader", "solutions", "assignments") or root.startswith("_assignment_"):
            flag("imported grader" if root == "grader" else "imported solutions")
            raise ImportError(f"{name} is not importable from a submission")

    class AnswerKeyFinder:
        """importlib.import_module raises no "import" audit event: refuse it here too."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            refuse_import(name)

    sys.meta_path.insert(0, AnswerKeyFinder)

    def bases():
        """Where a relative path may be resolved from: the working folder, open folders."""
        found = [getcwd()]
        try:
            for fd in listdir("/proc/self/fd"):
                try:
                    target = readlink(f"/proc/self/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("/") and isdir(target):
                    found.append(target)
        except OSError:
            pass
        return found

    def reaches_key(path):
        try:
            text = fspath(path)
            text = text.decode() if _isinstance(text, _bytes) else text
        except Exception:
            return False
        candidates = [text] if text.startswith("/") else [join(base, text) for base in bases()]
        for candidate in candidates:
            try:
                real = realpath(candidate)
            except Exception:
                continue
            if _any(inside(real, folder) for folder in protected):
                return True
        return False

    def hook(event, args):
        if event == "import":
            refuse_import(args[0])
        elif event == "open":
            path = args[0]
            if (_isinstance(path, (_str, _bytes)) or _hasattr(path, "__fspath__")) and reaches_key(path):
                flag("opened the grader's files")
                raise PermissionError(f"{path}: the grader's files are off limits")
        elif event.startswith("socket.") and event != "socket.__new__":
            flag("used the network")
            raise PermissionError("submissions have no network")
        elif event in ("os.fork", "os.forkpty"):
            flag("started a process")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            flag("started a program")

    sys.addaudithook(hook)


def series_adapter(spec, namespace, traced):
    """The assignment's adapter for the series' own class, if the student defined that class:
    a function from a question id to a function with the stub's signature (or None). The
    adapter's source comes from the assignment's folder (its series.py), through the contract;
    `traced(question_id, function)` lets a method's use be seen (credit carried forward)."""
    name = spec.get("class") if isinstance(spec, dict) else None
    series = namespace.get(name) if name else None
    if not isinstance(series, type) or not spec.get("adapter"):
        return None
    scope = {"__name__": "series_adapter"}
    exec(compile(spec["adapter"], "<the assignment's series adapter>", "exec"), scope)  # noqa: S102
    make, questions = scope.get("adapter"), set(spec.get("questions", ()))
    if not callable(make):
        return None

    def for_question(question):
        return make(series, question, traced, namespace) if question in questions else None

    return for_question


# Not a question: J of the student's own forward and cost with each weight pushed up and down,
# from which the grader takes a numerical gradient to say where a wrong gradient goes wrong.
OWN_COST = "_own_cost"


def own_cost_values(forward, cost, X, y, W1, W2, epsilon):
    """J = sum of cost(y, forward(X, W1, W2)[3]) at each weight (W1 then W2, row by row) plus
    then minus epsilon, every other weight as given: the student's own functions, called as
    they are; the differences are taken by the grader."""
    import numpy as np

    values = []
    for which, W in enumerate((W1, W2)):
        for index in np.ndindex(*W.shape):
            for step in (epsilon, -epsilon):
                weights = [W1.copy(), W2.copy()]
                weights[which][index] += step
                yHat = forward(X.copy(), *weights)[3]
                values.append(float(np.sum(np.asarray(cost(y.copy(), yHat), dtype=float))))
    return values


def _plain_name(name):
    """A parameter name as compared with the stub's: `y_hat` is `yHat`, `delta_3` is `delta3`."""
    return name.replace("_", "").lower()


def positional_names(function):
    """The names of a plain function's positional parameters, or None (*args, a builtin...)."""
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType) or code.co_flags & 0x04:  # CO_VARARGS
        return None
    names = code.co_varnames[:code.co_argcount]
    return names[1:] if getattr(function, "__self__", None) is not None else names


def reordered_names(function, stub):
    """The function's parameter names if they are the stub's in another order, else None."""
    names = positional_names(function)
    if names is None or len(names) != len(stub) or [_plain_name(n) for n in names] == \
            [_plain_name(n) for n in stub]:
        return None
    if sorted(_plain_name(n) for n in names) != sorted(_plain_name(n) for n in stub):
        return None
    return names


def positional_in_stub_order(function, stub):
    """Whether the function's positional arguments are the stub's, in the stub's order (or
    can't be told apart: *args, a builtin)."""
    return positional_names(function) is None or reordered_names(function, stub) is None


def in_stub_order(function, stub, args, kwargs):
    """A call's arguments as the stub orders them (the function's own parameters may be the
    stub's in another order, or some given by keyword), or None if they can't be matched."""
    if not kwargs and positional_in_stub_order(function, stub):
        return list(args)
    names = positional_names(function)
    if names is None or len(args) > len(names) or not set(kwargs) <= set(names):
        return None
    given = dict(zip(names, args), **kwargs)
    by_plain = {_plain_name(n): v for n, v in given.items()}
    if len(by_plain) != len(stub) or set(by_plain) != {_plain_name(n) for n in stub}:
        return None
    return [by_plain[_plain_name(n)] for n in stub]


class Tracer:
    """Which graded functions a judged call used, with what, and what each gave back, as the
    grader needs it to carry an earlier function's error forward: only an error the student's
    function really built on, from this very run. Bounded: at most MAX_NODES calls and
    MAX_DEPTH levels per judged call, their arguments and values within `max_bytes` in all as
    encoded; past that it records nothing more and says so."""

    MAX_NODES, MAX_DEPTH = 64, 6

    def __init__(self, encode, params, max_bytes):
        self.encode, self.params, self.max_bytes = encode, params, max_bytes
        self.stack = None  # the open calls' children lists while a judged call runs
        self.nodes = 0
        self.budget = [0]
        self.truncated = False
        # For a call "given" right answers (see answer): question id -> [(args, answer)], the
        # answers the graded functions it calls give instead of the student's own.
        self.given = None
        self.used = []

    def answer_given(self, question_id, ordered):
        """The right answer the grader gave for this call of a graded function (a fresh copy:
        the caller may change it in place), or None."""
        import numpy as np

        for args, answer in (self.given or {}).get(question_id, ()):
            if len(args) == len(ordered) and all(_same(a, b, np) for a, b in zip(ordered, args)):
                return _fresh(answer)
        return None

    def start(self):
        self.stack, self.nodes, self.budget, self.truncated = [[]], 0, [self.max_bytes], False
        self.used = []  # [question id, arguments in the stub's order, answer (None: it raised)]

    def finish(self):
        children, self.stack = self.stack[0], None
        return children

    def wrap(self, question_id, function):
        tracer = self
        stub = self.params.get(question_id, ())
        # By code object (student code may swap a function's __code__): whether positional
        # arguments are in the stub's order already, as they nearly always are.
        in_order = {}

        def traced(*args, **kwargs):
            stack = tracer.stack
            if stack is None:  # not inside a judged call
                return function(*args, **kwargs)
            if tracer.nodes >= tracer.MAX_NODES or len(stack) > tracer.MAX_DEPTH:
                tracer.truncated = True
                return function(*args, **kwargs)
            node = {"f": question_id}
            try:
                ordered = None
                if not kwargs:
                    code = getattr(function, "__code__", None)
                    code = code if isinstance(code, types.CodeType) else None
                    if code not in in_order:
                        in_order[code] = positional_in_stub_order(function, stub)
                    ordered = list(args) if in_order[code] else None
                if ordered is None:
                    ordered = in_stub_order(function, stub, args, kwargs)
                if tracer.given is not None and ordered is not None:
                    given = tracer.answer_given(question_id, ordered)
                    if given is not None:
                        return given
                node["args"] = None if ordered is None else \
                    [tracer.encode(a, tracer.budget) for a in ordered]
            except Exception:  # too big, or unreadable: this call is not recorded
                tracer.truncated = True
                return function(*args, **kwargs)
            tracer.nodes += 1
            stack[-1].append(node)
            stack.append([])
            used = [question_id, ordered, None]
            tracer.used.append(used)
            try:
                value = function(*args, **kwargs)
                used[2] = value
            except BaseException as exc:  # noqa: B036 - recorded, then raised on as before
                node["raised"] = type(exc).__name__[:100]
                raise
            finally:
                children = stack.pop()
                if children:
                    node["calls"] = children
            try:  # encoded now, before the caller can change it in place
                node["value"] = tracer.encode(value, tracer.budget)
            except Exception:
                node["value"] = b"N"  # None: the value could not be kept
                tracer.truncated = True
            return value

        import functools

        return functools.update_wrapper(traced, function)


def fingerprint(question_id, args, answer, np):
    """A call of a graded function and its answer, exactly, as a short digest: the grader
    sends those of the model's calls with each call "given right answers", so that the runner
    can tell, without the answers themselves, that every graded call the judged call made was
    the model's, to the last bit (then nothing could be carried forward, and the call is not
    made; an answer right but for rounding only costs the call)."""
    import hashlib

    digest = hashlib.blake2b(str(question_id).encode(), digest_size=16)

    def add(value):
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


def _same(a, b, np):
    """Two arguments are the same: equal shapes, numbers equal but for the last bits."""
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return a == b
    return x.shape == y.shape and bool(np.all(np.abs(x - y) <= 1e-12 + 1e-9 * np.abs(y)))


def _fresh(answer):
    if isinstance(answer, (list, tuple)):
        return type(answer)(_fresh(part) for part in answer)
    return answer.copy() if hasattr(answer, "copy") else answer


def traced_bytes(nodes, encode):
    """Tracer nodes, whose values are encoded already, as the encoding of a list of lists of
    TRACE_FIELDS; put together here rather than re-encoded (a trace is most of what a right
    answer costs to send)."""
    pack, none, parts = _KEY.pack, b"N", [b"l", _KEY.pack(len(nodes))]
    for node in nodes:
        args, raised = node.get("args"), node.get("raised")
        parts += [_TRACE_NODE, encode(node["f"], [UNLIMITED]),
                  none if args is None else b"l" + pack(len(args)) + b"".join(args),
                  node.get("value", none), none if raised is None else encode(raised, [UNLIMITED]),
                  traced_bytes(node.get("calls", ()), encode)]
    return b"".join(parts)


_TRACE_NODE = b"l" + _KEY.pack(len(TRACE_FIELDS))  # a list (see _wire) of the fields


def run_program(program, stop_at, channel, encode, np, prepared_calls=None):
    """Run the student's cells, then answer each stage of calls until told there are no more
    (a call the runner holds already comes as its key: see `Prepared.calls`)."""
    prepared_calls = prepared_calls or {}
    memory_mb = program.get("memory_mb", 0)
    cells = program.get("cells", [])
    restore_builtins = _builtins_keeper()

    def send_record(kind, record, prefix=b""):
        """A record of this runner's: its parts are bounded already (answers and traces by
        their budget, texts by MAX_TEXT, names by count), and the worker caps its frame."""
        channel.send(kind, prefix + encode(record, [UNLIMITED]))

    missing_sent = set()

    def note_missing(root):
        if root and root not in missing_sent and len(missing_sent) < 20:
            missing_sent.add(root)
            channel.send(b"M", root.encode())

    def describe(exc):
        if isinstance(exc, ModuleNotFoundError) and isinstance(getattr(exc, "name", None), str):
            note_missing(exc.name.partition(".")[0])  # a package not installed here: by name
            return f"ModuleNotFoundError: {missing_message(exc.name)}"
        if isinstance(exc, SystemExit):
            return f"called sys.exit({exc.code!r})" if exc.code is not None else "called sys.exit()"
        if isinstance(exc, MemoryError):
            return f"out of memory: a submission may use at most {memory_mb} MB"
        try:
            text = str(exc)
        except Exception:
            text = ""
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    filenames = {cell["filename"]: index for index, cell in enumerate(cells)}

    def error_line(tb):
        line = cell = None
        # Without reading any source (lookup_lines=False): the runner's own files are the
        # grader's, and opening them would flag an honest student.
        for entry in traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False):
            if entry.filename in filenames:
                cell, line = filenames[entry.filename], entry.lineno
        return cell, line

    module = types.ModuleType("submission")
    module.__file__ = cells[0]["filename"] if cells else "submission.py"
    sys.modules["submission"] = module
    namespace = module.__dict__

    class NoIPython:
        """What get_ipython() returns here: a notebook exported as a script calls it for its
        magics (get_ipython().run_line_magic(...)), and those are not run, as in a notebook."""

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    namespace["get_ipython"] = NoIPython
    served = set()

    def serve_series(name):
        if name not in served:
            served.add(name)
            channel.send(b"D", name.encode())

    install_finders(program.get("modules", {}), serve_series)
    install_audit_hook(channel, program.get("plan", {}).get("protected", ()))
    _run_cells(cells, stop_at, namespace, channel, describe, error_line, note_missing, restore_builtins)
    fragments = sorted(k for k, v in list(namespace.items())
                       if isinstance(v, types.FunctionType) and _is_method_fragment(v))
    send_record(b"L", {"defined": _names(k for k, v in list(namespace.items())
                                         if callable(v) and not k.startswith("__")),
                       "fragments": _names(fragments)})
    answer = _answerer(program, namespace, fragments, encode, describe, error_line, restore_builtins)
    while True:
        _flush()  # what a stage printed reaches the worker before the next stage is asked
        kind, body = channel.receive()
        if kind != b"K":
            return
        for fields in decode(body, np):
            if fields.__class__ is int:  # held already; asked once (a second time: no such call)
                fields = prepared_calls.pop(fields)
            key, record = answer(dict(zip(CALL_FIELDS, fields)))
            if record.keys() <= {"status", "value", "via", "trace", "truncated", "reordered"} \
                    and record["status"] == "returned" and not record.get("trace") \
                    and record.get("via") is None and not record.get("reordered"):
                channel.send(b"V", _KEY.pack(key) + record["value"])  # a plain answer: its value
            else:
                send_record(b"R", [record.get(name) for name in RESULT_FIELDS], _KEY.pack(key))


def _names(names, limit=1000):
    """Names as the grader reads them: identifiers of at most 100 characters, the first
    `limit` in order (a namespace may hold any number, of any length)."""
    return sorted(n for n in names if isinstance(n, str) and len(n) <= 100)[:limit]


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036 - the student may have replaced or closed them
            pass


def _builtins_keeper():
    """A function that puts builtins back as they were now: student code may patch them (len,
    isinstance...), and the runner's own work after each statement and call must not see that."""
    import builtins

    pristine = dict(builtins.__dict__)
    live = builtins.__dict__

    def restore():
        if live == pristine:  # compared in C, item by item: the usual case costs little
            return
        for name in [k for k in live if k not in pristine]:
            del live[name]
        for name, value in pristine.items():
            if live.get(name) is not value:
                live[name] = value

    return restore


def _is_method_fragment(value):
    """A function pasted out of a class (its first parameter is self): not an answer."""
    code = getattr(value, "__code__", None)
    return isinstance(code, types.CodeType) and code.co_argcount > 0 and code.co_varnames[0] == "self"


# Called before each top-level statement of the student's cells, to tell the worker which runs.
MARKER = "__grader_statement__"


def _run_cells(cells, stop_at, namespace, channel, describe, error_line, note_missing, restore_builtins):
    """Each cell compiled and run whole, announced to the worker (A), as Python runs a file;
    a cell the worker names in `stop_at` (one that overran or ended the process when run
    whole) runs a statement at a time instead, a marker before each announcing it (S), up to
    the statement to stop before (None: to its end), so that the one that hangs is found and
    skipped. A statement that raises ends its cell, except an import of a package not
    installed here: the rest of the cell runs on."""
    running = [0]
    send, pack = channel.send, _STMT.pack

    def announce(cell, index, line):
        running[0] = index
        send(b"S", pack(cell, index, line))

    namespace[MARKER] = announce
    stop_at = {int(cell): index for cell, index in stop_at.items()}
    flags = [0]  # __future__ features: a cell's apply to the cells after it, as in a notebook

    def recover(cell_index, filename, statement, exc):
        """After `statement` (None: not known) raised `exc`: True if the cell runs on after it
        (a package not installed here), else False, the error sent."""
        if isinstance(exc, ModuleNotFoundError) and statement is not None:
            def run_import(node):
                exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec",
                             flags=flags[0], dont_inherit=True), namespace)

            try:  # a package not installed here costs only the code that uses it
                missing = bind_missing(statement, exc, namespace, run_import)
            except BaseException as again:  # noqa: B036 - the statement's other imports
                exc, missing = again, None
            finally:
                restore_builtins()
            if missing:
                for root in missing:
                    note_missing(root)
                return True
        _, line = error_line(exc.__traceback__)
        send(b"E", pack(cell_index, 0, line or getattr(statement, "lineno", 0)) +
             describe(exc).encode("utf-8", "replace"))
        return False

    for cell_index, cell in enumerate(cells):
        whole = cell_index not in stop_at
        if whole:
            send(b"A", pack(cell_index, 0, 0))
        try:
            if whole:
                code = compile(cell["source"], cell["filename"], "exec", flags=flags[0], dont_inherit=True)
                flags[0] |= code.co_flags & _FUTURE_FLAGS
            else:
                body = ast.parse(cell["source"], cell["filename"]).body[:stop_at[cell_index]]
        except (SyntaxError, ValueError) as exc:
            send(b"E", pack(cell_index, 0, getattr(exc, "lineno", None) or 0) +
                 f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}".encode())
            continue
        start = 0
        if whole:
            try:
                exec(code, namespace)
                restore_builtins()
                continue
            except BaseException as exc:  # noqa: B036 - SystemExit too: the cell stops here
                restore_builtins()
                try:  # compiled already: only a limit of the syntax tree's own can stop this
                    body = ast.parse(cell["source"], cell["filename"]).body
                except Exception:  # noqa: BLE001 - then the statement is not known
                    body = []
                start = _statement_at(body, _module_line(exc.__traceback__, code))
                if not recover(cell_index, cell["filename"], body[start] if body else None, exc):
                    continue
                start += 1
        while start < len(body):
            running[0] = start
            try:
                code = compile(_marked(body, start, cell_index), cell["filename"], "exec",
                               flags=flags[0], dont_inherit=True)
                flags[0] |= code.co_flags & _FUTURE_FLAGS
                exec(code, namespace)
                restore_builtins()
                break
            except BaseException as exc:  # noqa: B036 - SystemExit too: the cell stops here
                restore_builtins()
                if not recover(cell_index, cell["filename"], body[running[0]], exc):
                    break
                start = running[0] + 1


def _future_flags():
    import __future__

    flags = 0
    for name in __future__.all_feature_names:
        flags |= getattr(__future__, name).compiler_flag
    return flags


_FUTURE_FLAGS = _future_flags()


def _module_line(tb, code):
    """The line of the cell's own top level that was running when the traceback was made."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code is code:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _statement_at(body, line):
    """The index of the top-level statement that holds `line` (its decorators included)."""
    index = 0
    for position, statement in enumerate(body):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        if first <= line:
            index = position
    return index


def _marked(body, start, cell):
    """The statements from `start` on, as one module, each after a call announcing it: the
    docstring and __future__ imports at the top stay first, as Python requires."""
    statements = []
    for index, statement in enumerate(body[start:], start=start):
        leading = index == len(statements) + start and (
            (isinstance(statement, ast.ImportFrom) and statement.module == "__future__")
            or (index == 0 and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)))
        if not leading:
            statements.append(_marker_call(cell, index, statement))
        statements.append(statement)
    return ast.Module(body=statements, type_ignores=[])


def _marker_call(cell, index, statement):
    """`MARKER(cell, index, line)`, placed at the statement's own position."""
    where = {"lineno": statement.lineno, "col_offset": statement.col_offset,
             "end_lineno": statement.lineno, "end_col_offset": statement.col_offset}
    arguments = [ast.Constant(value, **where) for value in (cell, index, statement.lineno)]
    call = ast.Call(ast.Name(MARKER, ast.Load(), **where), arguments, [], **where)
    return ast.Expr(call, **where)


def _answerer(program, namespace, fragments, encode, describe, error_line, restore_builtins):
    """The function that makes one call and returns (key, result record). An answer is its
    encoding (see _wire), within the budget of bytes an answer may take."""
    max_answer = program.get("max_answer", MAX_ANSWER)
    params = program.get("params", {})
    # Each graded function the student defined is traced: a judged call records the graded
    # functions it used. The judged call itself is made on the function as defined.
    tracer = Tracer(encode, params, max_answer)

    def refused(exc):
        return {"status": "refused",
                "message": f"returned {exc}, more than the {max_answer:,} bytes an answer may "
                           f"take as the grader receives it (every item counted, empty lists too)"}
    originals = {}
    for name, question_id in program.get("graded", {}).items():
        value = namespace.get(name)
        if isinstance(value, types.FunctionType) and name not in fragments:
            originals[name] = value
            namespace[name] = tracer.wrap(question_id, value)

    reorderings = {}
    series = series_adapter(program.get("series"), namespace, tracer.wrap)
    import numpy as np

    used_by, returned = {}, set()  # judged calls: the graded calls each made; those that returned

    def needs_given(call):
        """Whether a call "given right answers" could change a grade: not where the judged call
        it repeats returned and every graded call it made answered as the model does (the
        grader sends their fingerprints, `known`): nothing could then be carried forward."""
        if call["given_for"] not in returned:
            return True
        known = set(call.get("known") or ())
        return not all(args is not None and answer is not None and fingerprint(question, args, answer, np) in known
                       for question, args, answer in used_by.get(call["given_for"], ()))

    def own_cost(call):
        functions = [originals.get(n, namespace.get(n)) for n in call["names"]]
        if not all(callable(f) for f in functions):
            return {"status": "missing", "message": "not defined"}
        try:
            try:
                values = own_cost_values(*functions, *call["args"])
            finally:
                restore_builtins()
            return {"status": "returned", "value": encode(values, [max_answer])}
        except TooBig as exc:
            return refused(exc)
        except BaseException as exc:  # noqa: B036 - whatever the student's code does
            return {"status": "raised", "message": describe(exc)}

    def trace_bytes(trace):
        """The trace as bytes of its own: the grader reads it only when a verdict needs it."""
        return traced_bytes(trace, encode) if trace else None

    def answer(call):
        key = call["key"]
        if call.get("read"):  # module-level constants: their values are the answer
            if not all(name in namespace for name in call["names"]):
                return key, {"status": "missing", "message": "not defined"}
            try:
                value = encode([namespace[name] for name in call["names"]], [max_answer])
                return key, {"status": "returned", "value": value}
            except TooBig as exc:
                return key, refused(exc)
            except BaseException as exc:  # noqa: B036 - a value whose encoding misbehaves
                return key, {"status": "raised", "message": describe(exc)}
        question_id = call["question"]
        if question_id == OWN_COST:
            return key, own_cost(call)
        function = next((originals.get(n, namespace[n]) for n in call["names"]
                         if callable(namespace.get(n)) and n not in fragments), None)
        adapter = series(question_id) if series is not None else None
        via = None
        if function is None and adapter is not None:
            function, adapter, via = adapter, None, "class"
        if function is None:
            return key, {"status": "missing", "message": "not defined"}
        stub = params.get(question_id, ())
        if via is None and function not in reorderings:  # the same for every call of it
            reorderings[function] = reordered_names(function, stub)
        reordered = reorderings[function] if via is None else None
        if call.get("given_for") is not None:  # see Tracer.answer_given
            if not needs_given(call):
                return key, {"status": "skipped"}
            given = {}
            for function_id, given_args, given_answer in decode(call["given"], np):
                given.setdefault(function_id, []).append((given_args, given_answer))
            tracer.given = given
        tracer.start()
        trace = []
        try:
            try:
                args = list(call["args"])
                try:
                    if reordered is None:
                        value = function(*args)
                    else:  # the stub's parameters in another order: called by name
                        by_plain = {_plain_name(n): a for n, a in zip(stub, args)}
                        value = function(**{n: by_plain[_plain_name(n)] for n in reordered})
                except NotImplementedError:
                    # The stub's function left as handed out does not hide the series' class.
                    if adapter is None:
                        raise
                    via, reordered = "class", None
                    tracer.start()
                    value = adapter(*[a.copy() if hasattr(a, "copy") else a for a in call["args"]])
            finally:
                restore_builtins()
                trace = tracer.finish()
                tracer.given = None
                if tracer.used:
                    used_by[key] = tracer.used
            encoded = encode(value, [max_answer])
        except TooBig as exc:
            return key, refused(exc)
        except BaseException as exc:  # noqa: B036 - SystemExit and KeyboardInterrupt too
            cell, line = error_line(exc.__traceback__)
            return key, {"status": "raised", "message": describe(exc), "cell": cell, "line": line,
                         "via": via, "trace": trace_bytes(trace), "truncated": tracer.truncated,
                         "reordered": reordered and list(reordered), "error": type(exc).__name__}
        returned.add(key)
        return key, {"status": "returned", "value": encoded, "via": via,
                     "trace": trace_bytes(trace), "truncated": tracer.truncated,
                     "reordered": reordered and list(reordered)}

    return answer
