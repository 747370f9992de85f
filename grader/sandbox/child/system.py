"""The operating system's part of the sandbox: Linux calls through the C library, mounts that
hide folders, resource limits, dropping privileges, and ending every process left behind.

Part of the program that runs student code; the standard library only, but for pyseccomp,
which the worker imports to build the syscall filter (a runner only hands the kernel the
program). On a system without a call
(macOS has no prctl, unshare or mount) the call reports failure and the sandbox does without it,
saying so.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import signal
import stat
import sys
from collections.abc import Callable, Iterable
from typing import Any

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWIPC = 0x40000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
# mount_setattr(2), Linux 5.12+: one number on every architecture but alpha.
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 0x1
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 2, 4, 38
PR_GET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 39, 22, 2
PR_SET_CHILD_SUBREAPER, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 36, 24, 28
# Securebits: root is not special, and that can't be undone (no capabilities from execve).
SECURE_NOROOT_ALL = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20
# The temporary folders every user may write to: private and fresh for each submission.
SHARED_TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")
# Imported before any student process is forked: what a student may import cheaply, and what
# a process running as another user could not read from an installation it can't see.
PRELOAD = ("numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.ma",
           "ctypes", "math", "random", "itertools", "functools", "collections", "copy", "time",
           "statistics", "fractions", "decimal", "typing", "dataclasses", "re", "string",
           "operator", "datetime", "importlib.machinery", "json", "traceback", "ast", "types",
           "inspect", "warnings", "contextlib", "abc", "numbers", "textwrap", "pprint",
           "__future__", "heapq", "bisect", "array", "struct", "io", "enum", "weakref",
           "encodings.idna", "socket")
# Loaded too where a runner is another user without namespaces: such a runner may not be able
# to read the installation (numpy under /root, say), so a module loaded only on first use
# there fails instead. Elsewhere numpy.testing loads when a submission first uses it: it is
# 50 ms of every worker's start, and few submissions do.
PRELOAD_FOR_OTHER_USERS = ("numpy.testing",)


class SetupError(Exception):
    """A protection could not be put in place. Raised before any student code runs, its text
    says what ("could not ..."), and the runner stops: the sandbox fails closed."""


def step(what: str, action: Callable[..., Any], *args: Any) -> Any:
    """One isolation step, checked: its failure is a SetupError naming it."""
    try:
        return action(*args)
    except OSError as exc:
        raise SetupError(f"could not {what}: {exc.strerror or exc}") from None


# The capability sets a process has, as /proc/self/status names them.
CAPABILITY_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd")
PR_CAPBSET_READ, PR_GET_SECCOMP = 23, 21


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_CAPABILITY_VERSION_3 = 0x20080522


def last_capability() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


def capabilities(libc: Libc, last: int = 63) -> dict[str, int | None]:
    """Each capability set of this process, as a number, from the kernel's calls (capget, and
    PR_CAPBSET_READ for the bounding set): no /proc read, whose first in a fresh process costs
    a millisecond. The ambient set is always within the permitted and inheritable ones."""
    header, data = _CapHeader(_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), ctypes.byref(data)) != 0:
        return dict.fromkeys(CAPABILITY_SETS)
    joined = {field: data[0].__getattribute__(field) | (data[1].__getattribute__(field) << 32)
              for field in ("effective", "permitted", "inheritable")}
    bounding = 0
    for number in range(last + 1):
        if libc.prctl(PR_CAPBSET_READ, number, 0, 0, 0) == 1:
            bounding |= 1 << number
    return {"CapInh": joined["inheritable"], "CapPrm": joined["permitted"],
            "CapEff": joined["effective"], "CapBnd": bounding}


class Libc:
    """The C library's calls, each returning -1 where the platform lacks it."""

    def __init__(self) -> None:
        self._c = ctypes.CDLL(None, use_errno=True)

    def __getattr__(self, name: str) -> Callable[..., int]:
        function = getattr(self._c, name, None)
        return function if function is not None else _missing_call

    def check(self, result: int, what: str) -> None:
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")


def _missing_call(*args: Any) -> int:
    return -1


def preload(names: Iterable[str] = PRELOAD) -> None:
    import importlib

    for name in names:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def mount(libc: Libc, source: str | None, target: str | None, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    libc.check(libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
               f"mount {target}")


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def installation_paths() -> list[str]:
    """The Python installation and what it imports from: kept visible wherever it lives (a
    virtual environment under /tmp, a Python under /root)."""
    return sorted({os.path.realpath(p) for p in [sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                 *sys.path] if p and os.path.isdir(p)})


def cover(libc: Libc, folder: str, keep: Iterable[str], writable: bool, size: str = "64m") -> None:
    """Mount an empty tmpfs over `folder` (writable by all, or read-only), keeping visible the
    installation paths below it."""
    inner = [k for k in keep if inside(k, folder) and k != folder]
    reexpose = [k for k in inner if not any(inside(k, o) and k != o for o in inner)]
    handles = {k: os.open(k, os.O_PATH) for k in reexpose}  # opened before they are covered
    try:
        # A writable one is bounded in bytes and in files (so that emptying it is quick too).
        options = f"size={size},nr_inodes=16k,mode=1777" if writable else "size=64k,mode=755"
        mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for k, handle in handles.items():
            os.makedirs(k, exist_ok=True)
            mount(libc, f"/proc/self/fd/{handle}", k, None, MS_BIND | MS_REC)
        if not writable:
            mount(libc, None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for handle in handles.values():
            os.close(handle)


def minimal_dev(libc: Libc) -> None:
    """/dev as a runner needs it and no more: null, zero, full, random and urandom (the
    machine's own, bound in), fd and the standard streams as links to /proc/self/fd, and an
    empty shm for the private one; no terminal (/dev/pts, /dev/tty*, the console), through
    which a submission could write to the instructor's screen, and no disk. Read-only."""
    handles = {}
    try:
        for name in DEVICES:
            if os.path.exists(name):
                handles[name] = os.open(name, os.O_PATH | os.O_CLOEXEC)  # before /dev is covered
        mount(libc, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755")
        for name, handle in handles.items():
            os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o666))  # a file to bind it onto
            mount(libc, f"/proc/self/fd/{handle}", name, None, MS_BIND)
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(target, f"/dev/{name}")
        os.mkdir("/dev/shm", 0o1777)
        mount(libc, None, "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
    finally:
        for handle in handles.values():
            os.close(handle)


# Folders every process needs (/dev/null, /dev/urandom, /proc/self): never hidden, whatever a
# private path says (`grade class/ -o /dev/stdout` names /dev as the report's folder).
SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")


def hide(libc: Libc, paths: Iterable[str], keep: Iterable[str]) -> list[str]:
    """Make each path appear empty: a folder gets an empty read-only tmpfs, a file /dev/null.
    Each is checked when its turn comes: one inside a folder hidden before is already gone."""
    hidden = []
    for target in sorted({os.path.realpath(p) for p in paths}, key=len):
        if target in keep or not os.path.lexists(target):
            continue  # the installation itself (hiding it would break Python), or already gone
        if any(inside(system, target) or inside(target, system) for system in SYSTEM_FOLDERS):
            continue  # /dev, /proc, /sys or a folder above them: no process runs without them
        if os.path.isdir(target):
            cover(libc, target, keep, writable=False)
        else:
            mount(libc, "/dev/null", target, None, MS_BIND)
        hidden.append(target)
    return hidden


def wipe(folders: Iterable[str]) -> None:
    """Everything a runner left in each private temporary folder, removed, on that folder's own
    filesystem only: a mount point in it (the Python installation shown through it) is never
    entered. Walked without recursion, however deep a student nested folders."""
    for folder in folders:
        try:
            _empty(folder, os.lstat(folder).st_dev)
        except OSError:
            continue


def remove_tree(path: str) -> None:
    """A file, or a folder and all it holds however deep (without recursion), removed."""
    try:
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(path)
            return
        _empty(path, info.st_dev)
        os.rmdir(path)
    except OSError:
        pass


def _empty(folder: str, device: int) -> None:
    stack, emptied = [folder], []
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if info.st_dev != device:
                    continue  # another filesystem mounted here: not ours to empty
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
                    emptied.append(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
    for path in reversed(emptied):  # deepest first; one that holds a mount point stays
        with contextlib.suppress(OSError):
            os.rmdir(path)


def read_only_everywhere(libc: Libc) -> None:
    """Every mount this mount namespace holds, read-only, in one call: mounts made after it
    (the private temporary folders) are writable, nothing else is, whoever owns it."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)  # set, clear, propagation, userns
    libc.check(libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, attr,
                            ctypes.sizeof(attr)), "mount_setattr")


def world_writable_folders(roots: Iterable[str] = ("/run", "/var", "/dev", "/etc", "/opt", "/srv", "/usr"),
                           depth: int = 3) -> list[str]:
    """Folders anyone may write to, besides the shared temporary ones (/run/lock, say): made
    read-only one by one where the kernel is too old to make everything read-only at once."""
    found = []

    def walk(folder: str, level: int) -> None:
        try:
            entries = os.scandir(folder)
        except OSError:
            return
        with entries:
            for entry in entries:
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                path = entry.path
                if path in ("/proc", "/sys", "/dev/pts") or path in SHARED_TEMPORARY:
                    continue
                if mode & stat.S_IWOTH:
                    found.append(path)
                elif level < depth:
                    walk(path, level + 1)

    for root in roots:
        walk(root, 1)
    return found


# The resource limits a runner sets, by the name resource and --sandbox-info give them.
LIMITS = ("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC")


def limit_resources(limits: dict[str, Any], processes: int | None = None, strict: bool = True) -> dict[str, int]:
    """Each limit set, soft and hard alike, then read back: one that is not in effect as asked
    (a hard limit already lower is kept: it is stricter) stops the runner, unless not `strict`
    (a system that lacks a limit, as macOS lacks RLIMIT_AS: --sandbox-info then shows it
    missing). What is in effect."""
    wanted = {"RLIMIT_CORE": 0, "RLIMIT_CPU": int(limits["cpu_seconds"]),  # a backstop if the worker dies
              "RLIMIT_FSIZE": 16 * 1024 * 1024, "RLIMIT_NOFILE": 256}
    if limits["memory_mb"] > 0:
        wanted["RLIMIT_AS"] = limits["memory_mb"] * 1024 * 1024
    if processes is not None:
        wanted["RLIMIT_NPROC"] = processes
    in_effect = {}
    for name, value in wanted.items():
        kind = getattr(resource, name)
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError) as exc:
            if strict:
                raise SetupError(f"could not limit {name}: {exc}") from None
        in_effect[name] = resource.getrlimit(kind)
        if in_effect[name] != (value, value) and strict:
            raise SetupError(f"could not limit {name}: {in_effect[name]} in effect, not {value}")
    return {name: soft for name, (soft, _) in in_effect.items()}


def drop_bounding_set(libc: Libc) -> None:
    """No capability can ever be gained again, through an execve or otherwise: each one that
    the kernel knows is dropped from the bounding set (an unknown number fails: EINVAL)."""
    for number in range(64):
        if libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            libc.check(-1, f"drop capability {number} from the bounding set")


def become(uid: int, gid: int) -> None:
    """This process becomes `uid`, `gid` and no supplementary group, real, effective and saved
    alike: no way back to the user it was (root's setuid sets all three, as setresuid does)."""
    os.setgroups([])
    if hasattr(os, "setresuid"):
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    else:  # macOS
        os.setgid(gid)
        os.setuid(uid)


def drop_capabilities(libc: Libc) -> None:
    """Where the process is root but must not act as one (root of a user namespace): no
    capability now, none after an execve (its fork server emptied the bounding set), and no
    way back."""
    libc.check(libc.prctl(PR_SET_SECUREBITS, SECURE_NOROOT_ALL, 0, 0, 0), "securebits")

    header, data = _CapHeader(_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    libc.check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def process_tree() -> dict[int, list[int]]:
    """parent pid -> child pids, from /proc (empty where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return children
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def kill_descendants(me: int) -> set[int]:
    """Stop every descendant of `me` (stopped processes can't fork), then kill them all."""
    seen: set[int] = set()
    for _ in range(50):
        tree = process_tree()
        found, queue = set(), [me]
        while queue:
            for child in tree.get(queue.pop(), []):
                if child not in found:
                    found.add(child)
                    queue.append(child)
        new = found - seen
        if not new:
            break
        for pid in new:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        seen |= new
    for pid in seen:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return seen


def kill_as(uid: int, gid: int) -> None:
    """Every process of a user killed, however it detached itself: a child that becomes that
    user kills all it may signal. Only for a user of the grader's own, never a real one."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            for _ in range(3):
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


def reap_all() -> None:
    """Collect every child that has ended, without waiting for the others."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_leftovers(uid: int, places: Iterable[str] = SHARED_TEMPORARY) -> None:
    """What a user of the grader's own left where everyone may write (the shared temporary
    folders, and `places` such as /run/lock), however deep, and its System V shared memory,
    semaphores and message queues: removed (no namespaces to drop them)."""
    for place in places:
        try:
            entries = os.scandir(place)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid == uid:
                        remove_tree(entry.path)
                except OSError:
                    pass
    libc = Libc()
    # The owner's uid is column 7 of /proc/sysvipc/shm and msg, column 4 of sem.
    for kind, remove, column in (("shm", libc.shmctl, 7), ("sem", libc.semctl, 4),
                                 ("msg", libc.msgctl, 7)):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > column and int(fields[column]) == uid:
                if kind == "sem":
                    remove(int(fields[1]), 0, 0, None)  # IPC_RMID
                else:
                    remove(int(fields[1]), 0, None)


def syscall_filter() -> tuple[bytes | None, str | None]:
    """The seccomp filter every runner installs last, as the kernel's BPF program (bytes), and
    None or why it could not be made. Built with libseccomp (through pyseccomp), in the worker
    before any job: a runner only hands the program to the kernel. Everything is allowed but
    what no worksheet needs and a submission could reach the instructor through: sockets of
    every kind (an ssh-agent or a desktop session's Unix socket by path, the network where no
    namespace cuts it off) and io_uring, which makes sockets without the socket call; pushing
    input into a terminal; making or entering namespaces and mounting (a private /tmp must
    stay on); the kernel's keyrings, eBPF, perf, ptrace, reading other processes' memory or
    taking their descriptors; changing a file's owner, mode, times or extended attributes."""
    try:
        import pyseccomp as seccomp
    except Exception as exc:  # not installed, or no libseccomp (RuntimeError)
        return None, f"libseccomp can't be loaded here ({type(exc).__name__}: {exc})"
    refuse, unknown = seccomp.ERRNO(errno.EPERM), []
    rules: list[tuple[Any, str, tuple[Any, ...]]] = [
        (seccomp.ERRNO(errno.EACCES), name, ()) for name in ("socket", "socketpair")]
    rules += [(seccomp.ERRNO(errno.ENOSYS), name, ())
              for name in ("io_uring_setup", "io_uring_enter", "io_uring_register", "clone3")]
    for request in (0x5412, 0x541C):  # TIOCSTI, TIOCLINUX; the kernel reads 32 bits of it
        rules.append((refuse, "ioctl", (seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request),)))
    for flag in (CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
                 0x04000000, 0x02000000):  # and CLONE_NEWUTS, CLONE_NEWCGROUP
        rules.append((refuse, "clone", (seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag),)))
    rules += [(refuse, name, ()) for name in (
        "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
        "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
        "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "ptrace",
        "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        # A file's owner, mode, times and extended attributes: Landlock governs what may be
        # opened, created and removed, not these (a home's ~/.ssh made world-readable).
        "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
        "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr",
        "setxattrat", "removexattr", "lremovexattr", "fremovexattr", "removexattrat")]
    try:
        program = seccomp.SyscallFilter(seccomp.ALLOW)
        for action, name, conditions in rules:
            try:
                program.add_rule(action, name, *conditions)
            except (ValueError, OSError, RuntimeError):
                try:  # newer than this libseccomp: by the number every architecture gives it
                    program.add_rule(action, NEWER_CALLS[name], *conditions)
                except (KeyError, ValueError, OSError, RuntimeError):
                    unknown.append(name)  # a call neither it nor this kernel knows
        read, write = os.pipe()
        try:
            with os.fdopen(write, "wb") as sink:
                program.export_bpf(sink)
            code = b""
            while chunk := os.read(read, 1 << 16):
                code += chunk
        finally:
            os.close(read)
    except Exception as exc:  # libseccomp's own failure: no filter
        return None, f"libseccomp could not build the filter ({type(exc).__name__}: {exc})"
    if not code or len(code) % 8:
        return None, "libseccomp gave no filter"
    return code, None


# System calls from Linux 5.1 on have one number on every architecture (but alpha): a
# libseccomp older than a call is given its number.
NEWER_CALLS = {"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
               "fspick": 433, "clone3": 435, "pidfd_getfd": 438, "process_madvise": 440,
               "mount_setattr": 442, "fchmodat2": 452, "setxattrat": 463, "removexattrat": 466}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """A BPF program as the kernel takes it (a sock_fprog over its instructions), made once in
    the fork server: a runner only hands it over."""

    def __init__(self, code: bytes) -> None:
        self.buffer = ctypes.create_string_buffer(code, len(code))
        self.program = _SockFprog(len(code) // 8, ctypes.cast(self.buffer, ctypes.c_void_p))
        self.pointer = ctypes.byref(self.program)


def install_filter(libc: Libc, program: Filter) -> None:
    """Hand the filter to the kernel for this process and all it starts; checked with the
    kernel's own word (PR_GET_SECCOMP says it filters)."""
    libc.check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, program.pointer, 0, 0), "seccomp")
    if libc.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER:
        raise OSError(errno.EPERM, "the kernel does not report the filter in force")


# Landlock (Linux 5.13+): a process confines itself and all it starts to the files it is
# allowed, by path, with no privilege. Where namespaces can't hide anything (no root, no user
# namespaces; root in a container without CAP_SYS_ADMIN), it is what keeps the answer key, the
# class, the homes and the terminals out of a runner's reach, and writes to its own folder.
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_RULE_PATH_BENEATH = 1, 1
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_REFER, LL_TRUNCATE = 1 << 13, 1 << 14
# What a rule on a file (not a folder) may hold.
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LL_NET_TCP = 1 | 2  # bind and connect: no rule allows either
LL_SCOPE = 1 | 2  # abstract Unix sockets and signals: only within the runner's own domain
# The devices a runner may open (/dev/null for writing too); every other one is out of reach:
# terminals above all (/dev/pts, /dev/tty*), where a submission could write to the instructor.
DEVICES = {"/dev/null": LL_READ_FILE | LL_WRITE_FILE | LL_TRUNCATE, "/dev/zero": LL_READ_FILE,
           "/dev/full": LL_READ_FILE, "/dev/random": LL_READ_FILE, "/dev/urandom": LL_READ_FILE}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi(libc: Libc) -> int:
    """The Landlock ABI this kernel offers (0: none, or disabled)."""
    version = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return version if version > 0 else 0


def landlock_handled(abi: int) -> int:
    """The file-system rights a ruleset of this ABI governs (all it knows but device ioctls)."""
    rights = (1 << 13) - 1  # execute ... make symlink: ABI 1
    if abi >= 2:
        rights |= LL_REFER
    if abi >= 3:
        rights |= LL_TRUNCATE
    return rights


def landlock_rules(hidden: Iterable[str], special: dict[str, int], listable: Iterable[str]) -> list[tuple[str, int]]:
    """(path, rights) rules that let a process read everything but the `hidden` paths, each
    path of `special` ({path: rights}) with its own rights, even inside a hidden one, and list
    the folders inside `listable` ones (an installation: importing lists its folders). A rule
    covers its whole tree, so a folder that holds a path with other rights is split into its
    entries, and only the split folders of an installation may be listed. Symbolic links get
    no rule: what they point to is reached where it is."""
    marks = {os.path.realpath(p): 0 for p in hidden if os.path.lexists(p)}
    marks.update({os.path.realpath(p): r for p, r in special.items() if os.path.lexists(p)})
    marks.pop("/", None)
    listable = [os.path.realpath(p) for p in listable]
    rules, stack = [], [("/", LL_READ)]
    while stack:
        folder, rights = stack.pop()
        for path, is_folder in _entries(folder):
            here = marks.get(path, rights)
            if not any(inside(mark, path) and mark != path and kind != here for mark, kind in marks.items()):
                if here:
                    rules.append((path, here if is_folder else here & LL_FILE_RIGHTS))
            elif is_folder:
                if here & LL_READ_DIR and any(inside(path, root) for root in listable):
                    rules.append((path, LL_READ_DIR))
                stack.append((path, here))
    return rules


def _entries(folder: str) -> list[tuple[str, bool]]:
    """Each entry of a folder but symbolic links, and whether it is a folder itself (none
    where the folder can't be read)."""
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if not entry.is_symlink():
                        found.append((entry.path, entry.is_dir(follow_symlinks=False)))
                except OSError:
                    continue
    except OSError:
        return []
    return found


def landlock_ruleset(libc: Libc, abi: int, rules: Iterable[tuple[str, int]]) -> int:
    """A ruleset holding `rules`, as a descriptor that each runner confines itself with; it
    governs files, TCP (no rule: no bind, no connect) and, where the kernel can, signals and
    abstract Unix sockets (none beyond the runner's own processes)."""
    handled = landlock_handled(abi)
    attr = _RulesetAttr(handled, LL_NET_TCP if abi >= 4 else 0, LL_SCOPE if abi >= 6 else 0)
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        libc.check(-1, "landlock_create_ruleset")
    try:
        for path, rights in rules:
            try:
                target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # gone since it was listed: nothing to allow
            try:
                beneath = _PathBeneath(rights & handled, target)
                libc.check(libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                                        ctypes.byref(beneath), 0), f"landlock_add_rule {path}")
            finally:
                os.close(target)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def landlock_restrict(libc: Libc, ruleset: int) -> None:
    """Confine this process, and all it starts, to the ruleset (no_new_privs must be set)."""
    libc.check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
