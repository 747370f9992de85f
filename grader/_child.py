"""The program that runs a student's code, in processes of its own.

Started as ``python -I -c <this file's text> EVENT_FD`` with the job as JSON on stdin. It must
stay small and import only the standard library and numpy: it never imports the grader, and
it decides nothing. Two processes:

* the supervisor (this process) reads the job, sets resource limits, imports numpy, and, where
  it may, enters new PID, mount and network namespaces; it forks the runner, waits for it,
  then kills whatever the runner left behind (it is a child subreaper, so even processes that
  detached themselves come back to it) and reports how the runner ended;
* the runner hides the grader's files and private folders, drops to an unprivileged user when
  started as root, installs an audit hook that blocks and flags reaching for the answer key,
  then runs the student's cells one top-level statement at a time and makes the calls.

Events, JSON lines on EVENT_FD:
  {"event": "isolation", ...}                              what protections are in force
  {"event": "flag", "flag": text}                          something suspicious was attempted
  {"event": "stmt", "cell": c, "index": i, "line": n}      before each top-level statement
  {"event": "error", "cell": c, "line": n, "message": m}   a statement raised; the cell stops
  {"event": "missing", "package": name}                    an import found no such module
  {"event": "standin", "module": name}                     a series module given as data only
  {"event": "loaded", "defined": [names], "fragments": [names]}   every cell has run (fragments:
                                                           functions whose first parameter is
                                                           self); the calls are then made in
                                                           the job's order
  {"event": "result", "call": k, "status": "returned", "value": v, "via": null | "class"}
                                       ... "status": "raised" | "missing" | "refused", "message": m
  {"event": "exit", "code": n} or {"event": "exit", "signal": n}   how the runner ended
"""

import __future__
import ast
import json
import os
import resource
import signal
import sys
import traceback
import types

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36

# Imported by every supervisor: numpy, and ctypes for the system calls.
BASE_PRELOAD = ("numpy", "ctypes")
# Imported too before privileges are dropped without namespaces, where the unprivileged user
# may be unable to read the Python installation (under /root, say) to import them later.
PRELOAD = ("numpy.testing", "math", "random", "itertools", "functools", "collections", "copy", "time",
           "statistics", "fractions", "decimal", "typing", "dataclasses", "re", "string",
           "operator", "numpy.linalg", "numpy.random")


def main():
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    event_fd = int(sys.argv[1])
    job = json.loads(sys.stdin.buffer.read())
    _stdin_at_eof()
    supervise(job, event_fd)


def _stdin_at_eof():
    # input() must fail at once rather than wait: stdin is /dev/null, at EOF.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)


def _preload(everything=False):
    """Import what every runner needs, and with `everything` what a student may import."""
    import importlib

    for name in BASE_PRELOAD + (PRELOAD if everything else ()):
        importlib.import_module(name)


def _namespaces_work(libc):
    """Whether this machine lets us create the namespaces (tried in a throwaway child)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _receive(control):
    """One request: a 4-byte length with two file descriptors, then the JSON."""
    import socket

    head, fds, _, _ = socket.recv_fds(control, 4, 2)
    if len(head) < 4:
        return None, []
    size = int.from_bytes(head, "big")
    data = bytearray()
    while len(data) < size:
        chunk = control.recv(min(size - len(data), 1 << 20))
        if not chunk:
            return None, fds
        data += chunk
    return json.loads(data), fds


def serve(control_fd):
    """The warm worker: numpy imported once, then one forked supervisor per request. Each
    child starts as a fresh process would (own session, stdin at EOF, output to its own pipe,
    its own folder and environment); the worker reports its pid, then its exit status."""
    import socket

    control = socket.socket(fileno=control_fd)
    _preload()
    if os.geteuid() == 0 and not _namespaces_work(_libc()):
        _preload(everything=True)  # once here, rather than in every supervisor
    while True:
        request, fds = _receive(control)
        if request is None or len(fds) != 2:
            os._exit(0)  # the grader has gone
        event_fd, output_fd = fds
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                os.setsid()
                os.dup2(output_fd, 1)
                os.dup2(output_fd, 2)
                os.close(output_fd)
                _stdin_at_eof()
                os.chdir(request["cwd"])
                os.environ.clear()
                os.environ.update(request["env"])
                supervise(request["job"], event_fd)
            finally:
                os._exit(0)
        os.close(event_fd)
        os.close(output_fd)
        control.sendall((json.dumps({"pid": pid}) + "\n").encode())
        _, status = os.waitpid(pid, 0)
        control.sendall((json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n").encode())


class _Libc:
    """The C library's Linux calls; on a system without one of them (macOS has no prctl or
    unshare) the call reports failure and the sandbox does without it."""

    def __init__(self):
        import ctypes

        self._c = ctypes.CDLL(None, use_errno=True)

    def __getattr__(self, name):
        function = getattr(self._c, name, None)
        return function if function is not None else (lambda *args: -1)


def _libc():
    return _Libc()


def _send(event_fd, **event):
    os.write(event_fd, (json.dumps(event) + "\n").encode())


def _limit_resources(limits):
    def cap(kind, value):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    if limits["memory_mb"] > 0:
        cap(resource.RLIMIT_AS, limits["memory_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, int(limits["cpu_seconds"]))  # a backstop if the grader dies
    cap(resource.RLIMIT_FSIZE, 16 * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, 256)


def supervise(job, event_fd):
    """Limits, namespaces, fork the runner, clean up after it, report how it ended."""
    _limit_resources(job["limits"])
    _preload()  # already done, in a warm worker
    libc = _libc()
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    plan = job["isolation"]
    namespaces = False
    if plan["namespaces"] and sys.platform.startswith("linux"):
        namespaces = libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) == 0
    if plan["uid"] is not None and not namespaces:
        _preload(everything=True)  # cheap when a warm worker did it already
    runner = os.fork()
    if runner == 0:
        try:
            run_student(job, event_fd, namespaces)
        except BaseException as exc:  # noqa: B036 - the sandbox's own failure: say what it was
            _send(event_fd, event="fatal", message=f"{type(exc).__name__}: {exc}"[:300])
        finally:
            os._exit(0)
    status = None
    while status is None:
        try:
            pid, waited = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == runner:
            status = waited
    if not namespaces:  # with them, the runner was PID 1: the kernel has ended the rest
        kill_descendants()
    if status is not None and os.WIFSIGNALED(status):
        _send(event_fd, event="exit", signal=os.WTERMSIG(status))
    else:
        _send(event_fd, event="exit", code=os.WEXITSTATUS(status) if status is not None else 0)
    os._exit(0)


def kill_descendants():
    """Stop every descendant (stopped processes can't fork), then kill them all. (The grader's
    processes.kill_tree does the same from outside; this file imports nothing of the grader.)"""
    me = os.getpid()
    seen = set()
    for _ in range(50):
        children = {}
        try:
            entries = os.listdir("/proc")
        except OSError:  # no /proc (macOS): the process group kill from outside must do
            return
        for entry in entries:
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        fields = stat.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                children.setdefault(int(fields[1]), []).append(int(entry))
        found, queue = set(), [me]
        while queue:
            for child in children.get(queue.pop(), []):
                if child not in found:
                    found.add(child)
                    queue.append(child)
        new = found - seen
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
        seen |= new
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not any(_alive(pid) for pid in seen):
            break


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _mount(libc, source, target, fstype, flags, data=None):
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        import ctypes

        raise OSError(ctypes.get_errno(), f"mount {target}")


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _cover(libc, folder, keep, writable):
    """Mount an empty tmpfs over `folder`, keeping visible the installation paths below it."""
    inner = [k for k in keep if _inside(k, folder)]
    reexpose = [k for k in inner if not any(_inside(k, o) and k != o for o in inner)]
    handles = {k: os.open(k, os.O_PATH) for k in reexpose}  # opened before they are covered
    options = "size=16m,mode=1777" if writable else "size=64k,mode=755"
    _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for k, handle in handles.items():
        os.makedirs(k, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{handle}", k, None, MS_BIND | MS_REC)
        os.close(handle)
    if not writable:
        _mount(libc, None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def hide_paths(libc, hide):
    """In a private mount namespace: a fresh /proc, private temporary folders, and an empty
    read-only folder over each hidden path. The Python installation stays visible wherever it
    is, a virtual environment under /tmp or a Python under /root included."""
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    keep = sorted({os.path.realpath(p) for p in [sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                 *sys.path] if p and os.path.isdir(p)})
    # The shared temporary folders first: a hidden folder inside one is then already gone.
    for shared in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(shared) and shared not in keep:
            _cover(libc, os.path.realpath(shared), keep, writable=True)
    hidden = []
    for target in sorted({os.path.realpath(p) for p in hide}, key=len):
        if target in keep or not os.path.lexists(target):
            continue  # the installation itself (hiding it would break Python), or already gone
        if os.path.isdir(target):
            _cover(libc, target, keep, writable=False)
        else:  # a file (an instructor's catalogue): it reads as empty
            _mount(libc, "/dev/null", target, None, MS_BIND)
        hidden.append(target)
    return hidden


def what_can_be_read(path):
    """What this process can read of a copy of the answer key: hidden (gone or empty),
    unreadable (there, but permissions refuse it) or readable."""
    try:
        if not os.path.isdir(path):
            with open(path, "rb") as handle:
                return "readable" if handle.read(1) else "hidden"
        if not os.listdir(path):
            return "hidden"
        for root, _, files in os.walk(path):
            for name in files:
                try:
                    with open(os.path.join(root, name), "rb") as handle:
                        handle.read(1)
                    return "readable"
                except OSError:
                    continue
        return "unreadable"
    except FileNotFoundError:
        return "hidden"
    except OSError:
        return "unreadable"


def run_student(job, event_fd, namespaces):
    """The runner: isolate, then run the student's code."""
    plan = job["isolation"]
    libc = _libc()
    report = {"namespaces": namespaces, "hidden": [], "user": os.getuid(), "problems": [],
              "limits": {name: resource.getrlimit(getattr(resource, name))[0]
                         for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE")}}
    if namespaces:
        try:
            report["hidden"] = hide_paths(libc, plan["hide"])
        except OSError as exc:
            report["problems"].append(f"could not hide folders: {exc}")
    if plan["uid"] is not None:
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
            os.setgroups([])
            os.setgid(plan["gid"])
            os.setuid(plan["uid"])
        except OSError as exc:
            report["problems"].append(f"could not drop privileges: {exc}")
        report["user"] = os.getuid()
        if not os.access(os.path.join(sys.prefix, "lib"), os.R_OK | os.X_OK):
            report["problems"].append("the unprivileged user cannot read the Python installation: "
                                      "only preloaded modules can be imported")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if plan.get("report_copies"):  # --sandbox-info: as the student's code would find them
        report["copies"] = {path: what_can_be_read(path) for path in plan["protected"]}
    _send(event_fd, event="isolation", **report)
    run_job(job, event_fd)


def install_audit_hook(event_fd, protected):
    """Block and flag the answer key and the network; flag programs started. Audit hooks
    can't be removed once added (PEP 578)."""
    realpath, fspath, write, dumps = os.path.realpath, os.fspath, os.write, json.dumps
    _isinstance, _hasattr, _any, _str, _bytes = isinstance, hasattr, any, str, bytes
    flagged = set()

    def flag(text):
        if text not in flagged:
            flagged.add(text)
            write(event_fd, (dumps({"event": "flag", "flag": text}) + "\n").encode())

    def refuse_import(name):
        root = str(name).split(".")[0]
        if root in ("grader", "solutions"):
            flag(f"imported {root}")
            raise ImportError(f"{name} is not importable from a submission")

    class AnswerKeyFinder:
        """importlib.import_module raises no "import" audit event: refuse it here too."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            refuse_import(name)

    sys.meta_path.insert(0, AnswerKeyFinder)

    def hook(event, args):
        if event == "import":
            refuse_import(args[0])
        elif event == "open":
            path = args[0]
            if _isinstance(path, (_str, _bytes)) or _hasattr(path, "__fspath__"):
                try:
                    real = realpath(fspath(path))
                    real = real.decode() if _isinstance(real, _bytes) else real
                except Exception:
                    return
                if _any(_inside(real, folder) for folder in protected):
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


# The questions the series' own Neural_Network class answers, through these methods.
SERIES_METHODS = {"forward": "forward", "sigmoid_prime": "sigmoidPrime", "cost": "costFunction",
                  "cost_function_prime": "costFunctionPrime"}


def _series_adapter(series, question, traced=None):
    """A function with the contract's signature, answered by a fresh Neural_Network whose
    weights come from the call's own arguments (the series' class keeps them in attributes).
    `traced(question_id, function)` wraps the class's sigmoidPrime so that its use is seen."""

    def network(W1=None, W2=None):
        net = series()
        if W1 is not None:
            net.inputLayerSize, net.hiddenLayerSize = W1.shape
            net.outputLayerSize = W2.shape[1]
            net.W1, net.W2 = W1.copy(), W2.copy()
        if traced is not None and callable(getattr(net, "sigmoidPrime", None)):
            net.sigmoidPrime = traced("sigmoid_prime", net.sigmoidPrime)
        return net

    import numpy as np

    def answer(*args):
        if question == "forward":
            X, W1, W2 = args
            net = network(W1, W2)
            yHat = net.forward(X.copy())
            return net.z2, net.a2, net.z3, yHat
        if question == "sigmoid_prime":
            return network().sigmoidPrime(*args)
        if question == "cost":  # J of these predictions: the class's forward gives yHat
            y, yHat = args
            net = network()
            net.forward = lambda X: yHat.copy()
            return net.costFunction(np.zeros((len(y), 1)), y.copy())
        X, y, W1, W2 = args
        return network(W1, W2).costFunctionPrime(X.copy(), y.copy())

    return answer


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


def in_stub_order(function, stub, args, kwargs):
    """A call's arguments as the stub orders them (the function's own parameters may be the
    stub's in another order, or some given by keyword), or None if they can't be matched."""
    names = positional_names(function)
    if not kwargs and (names is None or reordered_names(function, stub) is None):
        return list(args)
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
    MAX_DEPTH levels per judged call; past that it records nothing more and says so."""

    MAX_NODES, MAX_DEPTH = 64, 6

    def __init__(self, encode, params, max_elements):
        self.encode, self.params, self.max_elements = encode, params, max_elements
        self.stack = None  # the open calls' children lists while a judged call runs
        self.nodes = 0
        self.budget = [0]
        self.truncated = False

    def start(self):
        self.stack, self.nodes, self.budget, self.truncated = [[]], 0, [self.max_elements], False

    def finish(self):
        children, self.stack = self.stack[0], None
        return children

    def wrap(self, question_id, function):
        tracer = self
        stub = self.params.get(question_id, ())

        def traced(*args, **kwargs):
            stack = tracer.stack
            if stack is None:  # not inside a judged call
                return function(*args, **kwargs)
            if tracer.nodes >= tracer.MAX_NODES or len(stack) > tracer.MAX_DEPTH:
                tracer.truncated = True
                return function(*args, **kwargs)
            node = {"f": question_id}
            try:
                ordered = in_stub_order(function, stub, args, kwargs)
                node["args"] = None if ordered is None else \
                    [tracer.encode(a, tracer.budget) for a in ordered]
            except Exception:  # too big, or unreadable: this call is not recorded
                tracer.truncated = True
                return function(*args, **kwargs)
            tracer.nodes += 1
            stack[-1].append(node)
            stack.append([])
            try:
                value = function(*args, **kwargs)
            except BaseException as exc:  # noqa: B036 - recorded, then raised on as before
                node["raised"] = type(exc).__name__
                raise
            finally:
                children = stack.pop()
                if children:
                    node["calls"] = children
            try:  # encoded now, before the caller can change it in place
                node["value"] = tracer.encode(value, tracer.budget)
            except Exception:
                node["value"] = {"unsupported": "too big to record"}
                tracer.truncated = True
            return value

        import functools

        return functools.update_wrapper(traced, function)


def run_job(job, event_fd):
    import numpy as np

    # Bound before student code runs, so that patching builtins, numpy or json cannot change
    # how answers are encoded.
    write, dumps = os.write, json.dumps
    asarray, ndarray, view, new_array = np.asarray, np.ndarray, np.ndarray.view, np.array
    float64 = np.float64
    integer, floating, bool_ = np.integer, np.floating, np.bool_
    _isinstance, _len, _int, _float, _bool, _str, _type = isinstance, len, int, float, bool, str, type
    _list, _tuple, _dict, _callable = list, tuple, dict, callable
    max_elements = job["max_elements"]
    memory_mb = job["limits"]["memory_mb"]

    def send(**event):
        write(event_fd, (dumps(event) + "\n").encode())

    class TooBig(Exception):
        pass

    def encode(value, budget):
        """Plain JSON for an answer: numbers, lists, {"array": shape, "data": [...]}."""
        if value is None or _isinstance(value, (_bool, bool_)):
            return None if value is None else _bool(value)
        if _isinstance(value, (_int, integer)):
            return _int(value)
        if _isinstance(value, floating) and value.dtype != float64:  # float32: say so
            return {"array": [], "data": [_float(value)], "dtype": _str(value.dtype)}
        if _isinstance(value, (_float, floating)):
            return _float(value)
        if _isinstance(value, _str):
            return {"str": _str.__str__(value)[:1000]}
        if _isinstance(value, (_list, _tuple)):
            if _len(value) > budget[0]:
                raise TooBig(f"a sequence of {_len(value)} items")
            return [encode(item, budget) for item in value]
        if _isinstance(value, ndarray):
            array = view(value, ndarray)  # drop any subclass: its shape or __eq__ may lie
        else:
            try:
                array = view(asarray(value), ndarray)
            except Exception:
                return {"unsupported": _type(value).__name__}
        if array.size > budget[0]:
            raise TooBig(f"an array of shape {_tuple(array.shape)}")
        budget[0] -= array.size
        try:
            plain = array.astype(float64)
        except Exception:
            return {"unsupported": f"array of {array.dtype}"}
        encoded = {"array": _list(array.shape), "data": plain.ravel().tolist()}
        if array.dtype.kind == "f" and array.dtype != float64:
            encoded["dtype"] = _str(array.dtype)
        return encoded

    def decode(value):
        if _isinstance(value, _dict):
            return new_array(value["data"], dtype=float64).reshape(value["array"])
        return value

    def error_line(tb, filenames):
        line = cell = None
        for frame in traceback.extract_tb(tb):
            if frame.filename in filenames:
                cell, line = filenames[frame.filename], frame.lineno
        return cell, line

    missing_sent = set()

    def note_missing(root):
        if root and root not in missing_sent and _len(missing_sent) < 20:
            missing_sent.add(root)
            send(event="missing", package=root)

    def describe(exc):
        if _isinstance(exc, ModuleNotFoundError) and _isinstance(getattr(exc, "name", None), _str):
            # A package not installed here (or a file not handed in): say so, by name.
            note_missing(exc.name.partition(".")[0])
            return f"ModuleNotFoundError: {missing_message(exc.name)}"
        if _isinstance(exc, SystemExit):
            return f"called sys.exit({exc.code!r})" if exc.code is not None else "called sys.exit()"
        if _isinstance(exc, MemoryError):
            return f"out of memory: a submission may use at most {memory_mb} MB"
        try:
            text = _str(exc)
        except Exception:
            text = ""
        return f"{_type(exc).__name__}: {text}" if text else _type(exc).__name__

    module = types.ModuleType("submission")
    module.__file__ = job["cells"][0]["filename"] if job["cells"] else "submission.py"
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
            send(event="standin", module=name)

    install_finders(job.get("modules", {}), serve_series)
    filenames = {cell["filename"]: index for index, cell in enumerate(job["cells"])}
    stop_at = {_int(cell): index for cell, index in job["stop_at"].items()}
    parsed = []
    for cell_index, cell in enumerate(job["cells"]):
        try:
            parsed.append(ast.parse(cell["source"], cell["filename"]))
        except (SyntaxError, ValueError) as exc:
            parsed.append(None)
            send(event="error", cell=cell_index, line=getattr(exc, "lineno", None),
                 message=f"{_type(exc).__name__}: {getattr(exc, 'msg', exc)}")

    install_audit_hook(event_fd, job["isolation"]["protected"])
    import builtins

    # Student code may patch builtins (len, isinstance...); the grader's side of this process
    # puts them back after every statement and call, so that its own work is unaffected.
    pristine = dict(builtins.__dict__)
    live_builtins = builtins.__dict__

    def restore_builtins():
        for name in [k for k in live_builtins if k not in pristine]:
            del live_builtins[name]
        for name, value in pristine.items():
            if live_builtins.get(name) is not value:
                live_builtins[name] = value

    flags = 0
    for cell_index, (cell, tree) in enumerate(zip(job["cells"], parsed)):
        if tree is None:
            continue
        for index, statement in enumerate(tree.body):
            if index >= stop_at.get(cell_index, _len(tree.body)):
                break
            if _isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    feature = getattr(__future__, alias.name, None)
                    flags |= getattr(feature, "compiler_flag", 0)
            send(event="stmt", cell=cell_index, index=index, line=statement.lineno)

            def run_statement(node, filename=cell["filename"]):
                code = compile(ast.Module(body=[node], type_ignores=[]), filename,
                               "exec", flags=flags, dont_inherit=True)
                exec(code, namespace)

            try:
                run_statement(statement)
                restore_builtins()
            except BaseException as exc:  # noqa: B036 - SystemExit too: the cell stops here
                restore_builtins()
                if _isinstance(exc, ModuleNotFoundError):
                    # A package not installed here costs only the code that uses it.
                    try:
                        missing = bind_missing(statement, exc, namespace, run_statement)
                    except BaseException as again:  # noqa: B036 - the statement's other imports
                        exc, missing = again, None
                    finally:
                        restore_builtins()
                    if missing:
                        for root in missing:
                            note_missing(root)
                        continue
                _, line = error_line(exc.__traceback__, filenames)
                send(event="error", cell=cell_index, line=line or statement.lineno,
                     message=describe(exc))
                break
    def is_method_fragment(value):
        """A function pasted out of a class (its first parameter is self): not an answer."""
        code = getattr(value, "__code__", None)
        return _isinstance(code, types.CodeType) and code.co_argcount > 0 \
            and code.co_varnames[0] == "self"

    fragments = sorted(k for k, v in _list(namespace.items())
                       if _isinstance(v, types.FunctionType) and is_method_fragment(v))
    send(event="loaded", defined=sorted(k for k, v in _list(namespace.items())
                                        if _callable(v) and not k.startswith("__")),
         fragments=fragments)

    series = namespace.get("Neural_Network")
    series = series if _isinstance(series, _type) else None
    # Each graded function the student defined is traced: a judged call records the graded
    # functions it used. The judged call itself is made on the function as defined.
    tracer = Tracer(encode, job["params"], max_elements)
    originals = {}
    for name, question_id in job["graded"].items():
        value = namespace.get(name)
        if _isinstance(value, types.FunctionType) and name not in fragments:
            originals[name] = value
            namespace[name] = tracer.wrap(question_id, value)

    def traced_method(question_id, method):
        return tracer.wrap(question_id, method)

    for call in job["calls"]:
        key = call["key"]
        if call.get("read"):  # module-level constants: their values are the answer
            if not all(name in namespace for name in call["names"]):
                send(event="result", call=key, status="missing", message="not defined")
                continue
            values = [namespace[name] for name in call["names"]]
            try:
                send(event="result", call=key, status="returned", value=encode(values, [max_elements]))
            except BaseException as exc:  # noqa: B036 - a value whose encoding misbehaves
                send(event="result", call=key, status="raised", message=describe(exc))
            continue
        question_id = call["question"]
        function = next((originals.get(n, namespace[n]) for n in call["names"]
                         if _callable(namespace.get(n)) and n not in fragments), None)
        adapter = None
        if series is not None and question_id in SERIES_METHODS:
            adapter = _series_adapter(series, question_id, traced_method)
        via = None
        if function is None and adapter is not None:
            function, adapter, via = adapter, None, "class"
        if function is None:
            send(event="result", call=key, status="missing", message="not defined")
            continue
        stub = job["params"].get(question_id, ())
        reordered = reordered_names(function, stub) if via is None else None
        tracer.start()
        try:
            try:
                args = [decode(arg) for arg in call["args"]]
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
                    value = adapter(*[decode(arg) for arg in call["args"]])
            finally:
                restore_builtins()
                trace = tracer.finish()
            encoded = encode(value, [max_elements])
        except TooBig as exc:
            send(event="result", call=key, status="refused",
                 message=f"returned {exc}, more than the {max_elements} numbers an answer may hold")
            continue
        except BaseException as exc:  # noqa: B036 - SystemExit and KeyboardInterrupt too
            cell_no, line = error_line(exc.__traceback__, filenames)
            send(event="result", call=key, status="raised", message=describe(exc),
                 cell=cell_no, line=line, via=via, trace=trace, truncated=tracer.truncated,
                 reordered=reordered and _list(reordered))
            continue
        send(event="result", call=key, status="returned", value=encoded, via=via, trace=trace,
             truncated=tracer.truncated, reordered=reordered and _list(reordered))
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: B036 - the student may have replaced or closed them
        pass


if __name__ == "__main__":
    main()
