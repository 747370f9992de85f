"""The worker: one of the grader's --jobs, started once, serving one submission at a time.

Part of the program that runs student code (one of the parts `processes.child_boot` runs). No
student code ever runs in the two processes here:

* the worker (W) talks to the grader: it receives a submission's job, drives the student's
  process through it, enforces every time limit, checks each frame it gets against what it
  asked (the channel from the student's process is untrusted input: a frame that is not the
  answer to the call asked ends the run, flagged), and sends the grader one message of results;
* the fork server (F), forked by the worker before it reads any job, so that its memory holds
  nothing of any submission: it forks each runner (see _runner) and reports how the runner
  ended from the kernel's wait status, never from anything the runner said, then ends every
  process the runner left.

Where the machine allows (root, or a kernel with unprivileged user namespaces) the worker makes
new mount, PID and network namespaces once (a user namespace too when not root), and F is PID 1
of the PID namespace: when a runner ends, F kills everything else in it, so nothing outlives
its submission, and nothing in it can see or signal the grader. The answer key's copies, the
home folders are hidden there once, every other folder made read-only, and /tmp, /var/tmp and
/dev/shm are private, size-capped and emptied after each runner.

Frames: grader -> W: W settings (once), then per job J header, C a call (key + record), E end.
W -> grader: w ready (once), then per job the runner's frames that passed the checks (I, E, M,
D, G, L, R, V) and the worker's own: O a call's outcome it decided (timeout, crash), Y a top-level
statement that overran or ended the process, G a flag, ! the sandbox's own failure, Z the end
(the output the runner printed). W -> F: H folders to hide, C the class's first-stage calls to
hold decoded (once per class: each runner gets a copy, and a stage names them by key), F fork
(with three descriptors), K kill. F -> W: h what it hid, c how many calls it holds, p the
runner's pid, x how the runner ended and what it left.
"""

import gc
import os
import select
import signal
import socket
import struct
import sys
import time

_STATUS = struct.Struct(">i")
_NUMBER = struct.Struct(">I")
_STATEMENT = struct.Struct(">HII")
# Python and numpy must start within this, whatever the timeout: it is not student time.
STARTUP_SECONDS = 30.0
# A call may take this many timeouts of wall time when other processes held the CPU it waited
# for (see Run.extended); its own time is still bounded by one timeout.
STOLEN_FACTOR = 4


class Inbox:
    """Frames from a socket or pipe, one at a time, none lost between reads. Reading never
    blocks: a stream found readable may have been read since, by another path."""

    def __init__(self, fd, limit=MAX_FRAME, read=None):
        self.fd, self.reader, self.frames = fd, FrameReader(limit), []
        if read is None:
            os.set_blocking(fd, False)
            read = lambda size: os.read(fd, size)  # noqa: E731
        self.read = read

    def fileno(self):
        return self.fd

    def pump(self):
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

    def next(self, timeout=None):
        """The next frame, or None at the end or after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.frames:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], wait)[0] or not self.pump():
                return None
        return self.frames.pop(0)


def write_all(fd, data, timeout=5.0):
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


def serve(control_fd):
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
    if first is None or first[0] != b"W":
        os._exit(0)
    settings = decode(first[1], np)
    mode = enter_namespaces(libc, settings)
    mode["identity"] = settings.get("identity", "own")
    mode["seccomp"] = seccomp_code is not None
    if no_seccomp:
        mode["unavailable"].append(f"no syscall filter: {no_seccomp}")
    if not mode["namespaces"]:  # where nothing can be hidden by mounts, Landlock confines files
        mode["landlock"] = landlock_abi(libc) if linux and settings.get("landlock", True) else 0
        if not mode["landlock"]:
            mode["unavailable"].append("no Landlock (Linux 5.13+ with Landlock enabled)" if settings.get(
                "landlock", True) else "no Landlock: BACKPROP_GRADER_LANDLOCK=0")
        elif mode["landlock"] < 6 and settings.get("identity") != "pool":
            mode["unavailable"].append(
                f"Landlock ABI {mode['landlock']} here: it can't refuse signals (Linux 6.12+), so a "
                "submission running as your user can signal the grader's processes and classmates' runners")
    if not mode["namespaces"] and settings.get("uid") is not None:
        preload(PRELOAD_FOR_OTHER_USERS)
    # No process of the same user may look inside (its memory, its descriptors): set only now,
    # as a process that is not dumpable may not write its own user namespace's maps.
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    server, their_end = socket.socketpair()
    if os.fork() == 0:
        server.close()
        os.close(control_fd)
        fork_server(their_end, settings, mode, seccomp_code)
    their_end.close()
    # Its socket stays blocking for what the worker sends (descriptors): reads don't wait.
    inbox = Inbox(server.fileno(), limit=1 << 16,
                  read=lambda size: server.recv(size, socket.MSG_DONTWAIT))
    ready = inbox.next(STARTUP_SECONDS)
    if ready is None or ready[0] != b"h":
        mode["failures"].append("could not start the fork server")
    else:
        view = decode(ready[1], np)
        mode["hidden"] = list(view["hidden"])
        mode["failures"] += view["failures"]
        mode["notes"] += view["notes"]
    encode = make_encoder(np)
    write_all(control_fd, frame(b"w", encode(mode, [UNLIMITED])), timeout=None)
    while True:
        job = read_job(control, np)
        if job is None:
            os._exit(0)  # the grader has gone
        frames = Submission(job, server, inbox, mode, settings, encode).run()
        write_all(control_fd, b"".join(frames), timeout=None)
        if settings.get("once"):
            os._exit(0)


def read_job(control, np):
    """One job's frames, up to its end: J the header, C each call (key, then its record)."""
    job = {"calls": {}}
    while True:
        got = control.next()
        if got is None:
            return None
        kind, body = got
        if kind == b"J":
            job["header"] = decode(body, np)
        elif kind == b"C":
            job["calls"][_NUMBER.unpack_from(body)[0]] = body[4:]
        elif kind == b"E":
            return job


def enter_namespaces(libc, settings):
    """New mount, PID and network namespaces for this worker and all it forks, if the
    machine allows; a user namespace too when not root. The mode: what was made; `failures`,
    protections that should be here and could not be set up (every job then stops before any
    student code); `unavailable`, those this machine does not offer (said at the top of a run);
    `notes`, what is done another way."""
    mode = {"namespaces": False, "userns": False, "hidden": [], "failures": [], "unavailable": [],
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


def map_user(uid, gid):
    """In a new user namespace: the user (uid, gid outside) is root inside, nobody else is."""
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                           ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    except OSError:
        return False
    return True


def fork_server(sock, settings, mode, seccomp_code):
    """F: set up the runners' view of the files once (with namespaces: a private /proc and a
    minimal /dev; private, size-capped /tmp, /var/tmp and /dev/shm; the answer key's copies and
    the home folders hidden; every other folder read-only. Without: a Landlock ruleset that
    leaves the same out of reach), then on request hide more folders, fork runners, report how
    each ended, end whatever it left and wipe the temporary folders. It never reads a job. A
    step that fails is reported as a failure: the worker then runs no student code at all."""
    libc = Libc()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # PID 1 of its namespace takes no signal it has no handler for: Python's for SIGINT
    # would let a runner of the same user end it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import numpy as np

    encode = make_encoder(np)
    view = FileView(libc, settings, mode)
    sock.sendall(frame(b"h", encode(view.setup(), [1000])))
    if mode["namespaces"]:  # each runner's environment (see Submission.plan), set once here
        os.environ.update(HOME="/tmp", TMPDIR="/tmp")
    prepared = Prepared(np, seccomp_code)
    prepared.landlock, prepared.bounded = view.ruleset, view.bounded
    prepared.landlock_abi = mode.get("landlock", 0)
    gc.collect()
    gc.freeze()  # the runners share these pages: no collection writes to them after a fork
    requests = Requests(sock)
    while True:
        kind, body, fds = requests.next()
        if kind == b"H":  # a job's private folders, hidden from now on
            report = view.hide_more([p for p in body.decode().split("\n") if p])
            prepared.landlock = view.ruleset
            sock.sendall(frame(b"h", encode(report, [1000])))
            continue
        if kind == b"C":  # the class's first-stage calls: decoded here once, not in each runner
            try:
                count = prepared.prepare_calls(body, np)
            except ProtocolError:
                prepared.calls, count = {}, 0
            gc.collect()
            gc.freeze()
            sock.sendall(frame(b"c", _NUMBER.pack(count)))
            continue
        if kind != b"F" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue  # a kill that came too late: nothing runs
        runner = os.fork()
        if runner == 0:
            sock.close()
            try:
                runner_main(*fds, prepared)
            finally:
                os._exit(70)  # the runner's own code failed: a sandbox error, not the student's
        for fd in fds:
            os.close(fd)
        sock.sendall(frame(b"p", _NUMBER.pack(runner)))
        status = await_runner(requests, runner)
        left = end_everything_else(mode, settings)
        if mode["namespaces"]:
            wipe(SHARED_TEMPORARY)
        sock.sendall(frame(b"x", _STATUS.pack(status) + _NUMBER.pack(len(left))))


class FileView:
    """What the runners see of the files, set up by F: with namespaces, mounts; without, a
    Landlock ruleset (where the kernel has Landlock) that each runner confines itself with.
    Each report says what is hidden, what failed (the worker then runs nothing) and notes."""

    def __init__(self, libc, settings, mode):
        self.libc, self.settings, self.mode = libc, settings, mode
        protected = set(settings.get("hide", ()))
        # The installation stays visible, but not a copy of the grader's own source that is
        # on the import path (a checkout run in place, an editable install): that is hidden.
        self.keep = [k for k in installation_paths() if k not in protected]
        self.hidden = []
        self.ruleset = None
        self.bounded = False

    def setup(self):
        failures, notes = [], []
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

    def mount_view(self):
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

    def confine(self, paths):
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

    def hide_more(self, paths):
        """A job's private folders, hidden from now on (a class shares them)."""
        before = set(self.hidden)
        failures = []
        if self.mode["namespaces"]:
            try:
                self.hidden += hide(self.libc, paths, self.keep)
            except OSError as exc:
                failures.append(f"could not hide {', '.join(paths)}: {exc}")
        else:
            failures = self.confine(paths)
        return {"hidden": [p for p in self.hidden if p not in before], "failures": failures, "notes": []}


class Requests:
    """The worker's requests to F, framed: H folders to hide, F fork (its three descriptors
    come with it), K kill. Descriptors are kept in the order they came, for the F frames."""

    def __init__(self, sock):
        self.sock, self.reader, self.frames, self.fds = sock, FrameReader(1 << 20), [], []

    def pump(self):
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 3)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)  # the worker has gone
        self.fds += fds
        self.frames += self.reader.feed(data)

    def next(self):
        while not self.frames:
            self.pump()
        kind, body = self.frames.pop(0)
        if kind == b"F":
            fds, self.fds = self.fds[:3], self.fds[3:]
            return kind, body, fds
        return kind, body, []


def await_runner(requests, runner):
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
            if any(kind == b"K" for kind, _ in requests.frames):
                requests.frames = [f for f in requests.frames if f[0] != b"K"]
                for kill in (os.killpg, os.kill):
                    try:
                        kill(runner, signal.SIGKILL)
                    except OSError:
                        pass
            pid, status = os.waitpid(runner, os.WNOHANG)
            if pid == runner:
                return os.waitstatus_to_exitcode(status)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def end_everything_else(mode, settings):
    """Every process the runner left, ended and collected."""
    left = set()
    if mode["namespaces"]:  # F is PID 1: everything else in the namespace is the runner's
        if not _has_children():  # and what is left anywhere in it is F's child, or below one
            return left
        for _ in range(100):
            others = {p for children in process_tree().values() for p in children} - {os.getpid()}
            if not others:
                break
            left |= others
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
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


def _has_children():
    """Whether this process has a child, ended or not (none is collected here): one system
    call, where reading /proc takes dozens."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


class Fatal(Exception):
    """The sandbox itself failed before any student code ran (not the student's fault)."""


class Submission:
    """One job, run to the end: a runner forked, its cells loaded, the calls sent stage by
    stage, every frame checked; a runner that overruns its time or dies costs the statement or
    call it was in, and a fresh runner carries on with what is left. Returns the frames for the
    grader: the runner's that passed the checks, and the worker's own."""

    def __init__(self, job, server, inbox, mode, settings, encode):
        header = job["header"]
        self.header, self.calls, self.server, self.inbox = header, job["calls"], server, inbox
        self.mode, self.settings, self.encode = mode, settings, encode
        self.limits = header["limits"]
        self.stages = [[(key, group) for key, group in stage] for stage in header["stages"]]
        self.group = {key: group for stage in self.stages for key, group in stage}
        self.answered = set()
        self.stop_at = {}
        self.out = []  # frames for the grader
        self.output, self.output_total = bytearray(), 0
        self.flags = []
        self.budget_end = time.monotonic() + self.limits["budget"]
        self.budget_credited = 0.0  # added to the budget for time other processes took (Run.extended)
        self.errors = self.notes = 0
        self.answer_bytes = 0  # of the answers passed on (see _wire.MAX_ANSWERS)
        self.isolation_sent = False
        self.scratch = None
        self.held = frozenset()  # calls F holds: see prepare_calls

    def hide_for_job(self):
        """Ask F to hide this job's private folders, once: a batch shares them."""
        wanted = [p for p in self.header["plan"].get("hide", ()) if p not in self.mode["hidden"]
                  and p not in self.mode.setdefault("asked", [])]
        if not wanted:
            return
        self.mode["asked"] += wanted
        self.server.sendall(frame(b"H", "\n".join(wanted).encode()))
        got = self.inbox.next(STARTUP_SECONDS)
        if got is None or got[0] != b"h":
            raise Fatal("the fork server has gone")
        import numpy as np

        report = decode(got[1], np)
        self.mode["hidden"] += report["hidden"]
        self.mode["failures"] += report["failures"]  # this worker runs nothing from now on

    def prepare_calls(self):
        """Have F hold the first stage's calls decoded, unless it holds these already: a class
        shares them (a job of another class replaces them). Later stages are never held: their
        arguments hold answers. Sets `held`, the keys a stage may name instead of sending."""
        first = [key for key, _ in self.stages[0]] if self.stages else []
        held = self.mode.setdefault("prepared", {})
        if first and not all(held.get(key) == self.calls.get(key) for key in first):
            held.clear()
            self.server.sendall(frame(b"C", b"l" + _NUMBER.pack(len(first)) + b"".join(self.calls[k] for k in first)))
            got = self.inbox.next(STARTUP_SECONDS)
            if got is None or got[0] != b"c":
                raise Fatal("the fork server has gone")
            if _NUMBER.unpack_from(got[1])[0] == len(first):
                held.update((key, self.calls[key]) for key in first)
        self.held = frozenset(first) if first and held else frozenset()

    def record(self, kind, record, prefix=b""):
        self.out.append(frame(kind, prefix + self.encode(record, [UNLIMITED])))

    def outcome(self, key, status, message):
        self.answered.add(key)
        self.record(b"O", {"status": status, "message": message}, _NUMBER.pack(key))

    def flag(self, text):
        if text not in self.flags:
            self.flags.append(text)
            self.out.append(frame(b"G", text.encode()))

    def pending(self):
        return [key for stage in self.stages for key, _ in stage if key not in self.answered]

    def run(self):
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
            self.out.append(frame(b"!", str(exc).encode()))
        finally:
            self.remove_scratch()
        self.record(b"Z", {"output": bytes(self.output), "output_total": self.output_total,
                           "hidden": list(self.mode["hidden"])})
        return self.out

    def make_scratch(self):
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

    def scratch_bytes(self):
        total = 0
        for root, _, files in os.walk(self.scratch or "/nonexistent"):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_blocks * 512
                except OSError:
                    pass
        return total

    def remove_scratch(self):
        if self.scratch is None:
            return
        import shutil

        def writable_again(function, path, _):
            try:
                os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
                function(path)
            except OSError:
                pass

        shutil.rmtree(self.scratch, onerror=writable_again)

    def plan(self):
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

    def __init__(self, submission):
        self.s = submission
        self.phase = "isolating"  # then loading, calls, done
        self.running_stmt = None  # (cell, index, line) of the statement running now
        self.started_student = False
        self.stage = 0
        self.sent = []  # keys of the stage sent, in order
        self.first_unanswered = 0  # in self.sent: those before it are answered
        self.deadline = min(time.monotonic() + STARTUP_SECONDS, submission.budget_end)
        # Until the student's code starts, the limit is the start-up's (see step for a call's).
        self.step_started, self.waited, self.call_end = time.monotonic(), 0.0, self.deadline
        self.pid, self.budget_waited = None, 0.0  # this runner's waits credited to the budget
        self.ended = None  # why the worker ended it: finished, timeout, crashed, interfered
        self.message = ""
        self.channel_closed = False

    def go(self):
        """Fork the runner and see it through; True if a fresh one must carry on."""
        s = self.s
        to_runner_read, self.to_runner = os.pipe()
        from_runner, from_runner_write = os.pipe()
        output, output_write = os.pipe()
        try:
            socket.send_fds(s.server, [frame(b"F")], [to_runner_read, from_runner_write, output_write])
        finally:
            for fd in (to_runner_read, from_runner_write, output_write):
                os.close(fd)
        os.set_blocking(output, False)
        self.frames, self.output = Inbox(from_runner, limit=MAX_RUNNER_FRAME), output
        self.status = None
        try:
            got = s.inbox.next(STARTUP_SECONDS)
            if got is None or got[0] != b"p":
                raise Fatal("the fork server has gone")
            self.pid = _NUMBER.unpack_from(got[1])[0]  # as this worker's /proc names it (F's)
            write_all(self.to_runner, frame(b"P", s.header["program"]))  # as the grader encoded it
            write_all(self.to_runner, frame(b"T", s.encode(
                {"plan": s.plan(), "stop_at": {str(k): v for k, v in s.stop_at.items()}}, [UNLIMITED])))
            return self.after(self.watch())
        finally:
            for fd in (self.to_runner, from_runner, output):
                os.close(fd)
            self.settle()

    def settle(self):
        """However this run ended, the runner is gone before the next one starts: F's word."""
        if self.status is not None:
            return
        self.kill()
        while True:
            got = self.s.inbox.next(STARTUP_SECONDS)
            if got is None:
                os._exit(1)  # the fork server is stuck: the grader replaces this worker
            if got[0] == b"x":
                self.status = _STATUS.unpack_from(got[1])[0]
                return

    def step(self):
        """The next limit starts now: its own timeout, within the whole budget."""
        now = time.monotonic()
        self.step_started, self.waited, self.call_end = now, None, now + self.s.limits["timeout"]
        self.deadline = min(self.call_end, self.s.budget_end)

    def waited_for_cpu(self):
        """Seconds the runner has waited, runnable, for a CPU other processes held, since it
        started (the kernel's schedstat), or None where the kernel does not say."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as handle:
                return int(handle.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError, TypeError):
            return None

    def checkpoint(self, now):
        """A quarter into a call that still runs: note how long its runner has waited for a
        CPU so far (quick calls, nearly all of them, never get here)."""
        if self.waited is None and self.ended is None and now >= self.step_started + self.s.limits["timeout"] / 4:
            self.waited = self.waited_for_cpu() or 0.0

    def extended(self):
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

    def watch(self):
        """Until the runner ends: its frames and output read and checked, its time kept."""
        s = self.s
        streams = [self.frames, self.output, s.inbox]
        while True:
            if s.inbox.frames:
                kind, body = s.inbox.frames.pop(0)
                if kind == b"x":
                    self.status = _STATUS.unpack_from(body)[0]
                    if _NUMBER.unpack_from(body, 4)[0]:
                        s.flag("left processes running")
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

    def drain(self, streams):
        """What the runner wrote before it ended: F has ended every writer, so this ends."""
        pending = [stream for stream in (self.frames, self.output) if stream in streams]
        while pending:
            ready = select.select(pending, [], [], 1.0)[0]
            if not ready:
                return
            for stream in ready:
                (self.read_output if stream is self.output else self.read_frames)(streams)
            pending = [stream for stream in pending if stream in streams]

    def read_output(self, streams):
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

    def read_frames(self, streams):
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
                self.s.flag("silenced its channel to the grader")
        while self.frames.frames and self.ended is None:
            self.check(*self.frames.frames.pop(0))

    def exited_soon(self):
        """Whether the runner ended (F has said so within a moment): a runner that ends closes
        its channel too, and that is no silencing."""
        if select.select([self.s.inbox], [], [], 0.2)[0]:
            self.s.inbox.pump()
        return any(kind == b"x" for kind, _ in self.s.inbox.frames)

    def check(self, kind, body):
        """One frame from the runner, against what it may say now."""
        s = self.s
        if kind == b"!" and self.phase == "isolating":  # "could not ...": no student code ran
            raise Fatal(body.decode("utf-8", "replace")[:300])
        if kind == b"I" and self.phase == "isolating":
            self.phase = "loading"
            if not s.isolation_sent:
                s.isolation_sent = True
                s.out.append(frame(kind, body))
        elif kind in (b"A", b"S") and self.phase == "loading" and len(body) == 10:
            cell, index, line = _STATEMENT.unpack(body)
            if kind == b"A":  # a whole cell: index -1, before any statement of it
                if (self.running_stmt is not None and cell <= self.running_stmt[0]) or cell in s.stop_at:
                    return self.interfered("announced a cell out of order")
                index, line = -1, 0
            elif self.running_stmt is not None and (cell, index) <= self.running_stmt[:2]:
                return self.interfered("announced a statement out of order")
            self.running_stmt = (cell, index, line)
            if not self.started_student:  # loading all the cells shares one limit
                self.started_student = True
                self.step()
        elif kind == b"E" and self.phase == "loading" and len(body) >= 10:
            s.errors += 1
            if s.errors <= 1000:
                s.out.append(frame(kind, body[:10 + 600]))
        elif kind in (b"M", b"D") and 0 < len(body) <= 100 and body.replace(b"_", b"").isalnum():
            s.notes += 1
            if s.notes <= 40:
                s.out.append(frame(kind, body))
        elif kind == b"G":
            if body.decode("utf-8", "replace") in FLAGS:
                s.flag(body.decode())
        elif kind == b"L" and self.phase == "loading":
            self.phase, self.running_stmt = "calls", None
            s.out.append(frame(kind, body[:1 << 20]))
            self.next_stage()
        elif kind in (b"R", b"V") and self.phase == "calls" and len(body) >= 4:
            key = _NUMBER.unpack_from(body)[0]
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
        else:
            self.interfered(f"sent a message the grader did not expect ({kind!r} while {self.phase})")

    def next_stage(self):
        """Send the next stage's calls still pending, or say there are none."""
        s = self.s
        if s.scratch is not None and s.scratch_bytes() > s.limits["disk_mb"] * 2 ** 20:
            return self.interfered(f"wrote more than {s.limits['disk_mb']} MB to disk")
        while self.stage < len(s.stages):
            keys = [key for key, _ in s.stages[self.stage] if key not in s.answered]
            self.stage += 1
            if keys:
                self.sent, self.first_unanswered = keys, 0
                self.step()
                write_all(self.to_runner, frame(b"K", b"l" + _NUMBER.pack(len(keys)) + b"".join(
                    reference(k) if k in s.held else s.calls[k] for k in keys)))
                return
        self.phase = "done"
        self.deadline = min(time.monotonic() + STARTUP_SECONDS, s.budget_end)  # to exit
        write_all(self.to_runner, frame(b"X"))

    def running_call(self):
        if self.phase != "calls":
            return None
        while self.first_unanswered < len(self.sent) and self.sent[self.first_unanswered] in self.s.answered:
            self.first_unanswered += 1  # answers come in order: each key is passed once
        return self.sent[self.first_unanswered] if self.first_unanswered < len(self.sent) else None

    def overran(self):
        if self.phase == "done":
            self.ended = "finished"  # every call answered: what still runs (atexit...) is ignored
        elif self.running_call() is not None or (self.phase == "loading" and self.started_student):
            self.ended, self.message = "timeout", f"ran for more than {self.s.limits['timeout']:g} s"
        else:
            self.ended, self.message = "crashed", "did not start in time"

    def interfered(self, what):
        self.s.flag("interfered with the grader")
        self.ended, self.message = "interfered", f"the submission interfered with the grader: it {what}"
        self.kill()

    def kill(self):
        self.s.server.sendall(frame(b"K"))

    def after(self, status):
        """What the runner's end means; True if a fresh runner must carry on."""
        s = self.s
        if self.ended == "finished" or (self.ended is None and self.phase == "done"):
            return False
        if self.ended is None:  # it died on its own before it was done
            self.ended, self.message = "crashed", describe_exit(status)
            if status == LOST_CHANNEL:  # its code closed or redirected the runner's channel
                s.flag("silenced its channel to the grader")
                self.message = "closed or redirected its channel to the grader"
        if self.ended == "interfered":
            for key in s.pending():
                s.outcome(key, "crashed", f"not run: {self.message}")
            return False
        call = self.running_call()
        if call is not None:
            s.outcome(call, self.ended, self.message)
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
            s.record(b"Y", {"cell": cell, "line": line, "message": self.message, "kind": self.ended})
            return True
        if self.phase in ("isolating", "loading") and time.monotonic() < s.budget_end:
            raise Fatal(f"the sandboxed process {self.message} before running any student code")
        return False  # (a fresh runner that the submission's spent budget stopped: not the sandbox's fault)


def describe_exit(status):
    """How a process ended, from its wait status (minus a signal's number, or an exit code)."""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"ended the process with exit code {status}"
