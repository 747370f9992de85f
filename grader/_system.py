"""The operating system's part of the sandbox: Linux calls through the C library, mounts that
hide folders, resource limits, dropping privileges, and ending every process left behind.

Part of the program that runs student code (one of the parts `processes.child_boot` runs);
standard library only. On a system without a call (macOS has no prctl, unshare or mount) the
call reports failure and the sandbox does without it, saying so.
"""

import ctypes
import os
import resource
import signal
import stat
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWIPC = 0x40000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
# mount_setattr(2), Linux 5.12+: one number on every architecture but alpha.
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 0x1
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
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


class Libc:
    """The C library's calls, each returning -1 where the platform lacks it."""

    def __init__(self):
        self._c = ctypes.CDLL(None, use_errno=True)

    def __getattr__(self, name):
        function = getattr(self._c, name, None)
        return function if function is not None else (lambda *args: -1)

    def check(self, result, what):
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")


def preload(names=PRELOAD):
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def mount(libc, source, target, fstype, flags, data=None):
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    libc.check(libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
               f"mount {target}")


def inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def installation_paths():
    """The Python installation and what it imports from: kept visible wherever it lives (a
    virtual environment under /tmp, a Python under /root)."""
    return sorted({os.path.realpath(p) for p in [sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                 *sys.path] if p and os.path.isdir(p)})


def cover(libc, folder, keep, writable, size="64m"):
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


# Folders every process needs (/dev/null, /dev/urandom, /proc/self): never hidden, whatever a
# private path says (`grade class/ -o /dev/stdout` names /dev as the report's folder).
SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")


def hide(libc, paths, keep):
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


def wipe(folders):
    """Everything a runner left in each private temporary folder, removed, on that folder's own
    filesystem only: a mount point in it (the Python installation shown through it) is never
    entered. Walked without recursion, however deep a student nested folders."""
    for folder in folders:
        try:
            device = os.lstat(folder).st_dev
        except OSError:
            continue
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
            try:
                os.rmdir(path)
            except OSError:
                pass


def read_only_everywhere(libc):
    """Every mount this mount namespace holds, read-only, in one call: mounts made after it
    (the private temporary folders) are writable, nothing else is, whoever owns it."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)  # set, clear, propagation, userns
    libc.check(libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, attr,
                            ctypes.sizeof(attr)), "mount_setattr")


def world_writable_folders(roots=("/run", "/var", "/dev", "/etc", "/opt", "/srv", "/usr"), depth=3):
    """Folders anyone may write to, besides the shared temporary ones (/run/lock, say): made
    read-only one by one where the kernel is too old to make everything read-only at once."""
    found = []

    def walk(folder, level):
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


def limit_resources(limits, processes=None):
    def cap(kind, value):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    if limits["memory_mb"] > 0:
        cap(resource.RLIMIT_AS, limits["memory_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, int(limits["cpu_seconds"]))  # a backstop if the worker dies
    cap(resource.RLIMIT_FSIZE, 16 * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, 256)
    if processes is not None:
        cap(resource.RLIMIT_NPROC, processes)


def drop_capabilities(libc):
    """In a user namespace, where the process is root but must not act as one: no capability
    now, none after an execve, and no way back."""
    libc.check(libc.prctl(PR_SET_SECUREBITS, SECURE_NOROOT_ALL, 0, 0, 0), "securebits")
    for number in range(64):
        libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    libc.check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def process_tree():
    """parent pid -> child pids, from /proc (empty where there is none)."""
    children = {}
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


def kill_descendants(me):
    """Stop every descendant of `me` (stopped processes can't fork), then kill them all."""
    seen = set()
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
    return seen


def kill_as(uid, gid):
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


def reap_all():
    """Collect every child that has ended, without waiting for the others."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_leftovers(uid, places=SHARED_TEMPORARY):
    """What a user of the grader's own left where everyone may write, and its System V
    shared memory, semaphores and message queues: removed (no namespaces to drop them)."""
    import shutil

    for place in places:
        try:
            entries = os.scandir(place)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
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
