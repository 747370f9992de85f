"""Pure renderers of what protects the grader from a submission on this machine: `render`, the
whole list (`grade --sandbox-info`), from what a runner read back from the kernel, and `gaps`,
the protections a worker could not have here, said at the top of every run."""

from __future__ import annotations

from typing import Any

IDENTITY_GAPS = {
    "no-capabilities": "student code runs as root of the grader's user namespace (a rootless "
                       "container, or one that maps no user for the sandbox), with no capability: "
                       "it can read what the grader's user can, but for the hidden folders",
    "own-userns": "student code runs as your own user, in a user namespace, with no capability: "
                  "it can read what you can, but for the hidden folders",
    "own": "student code runs as your own user, with your rights: it can read and write what you "
           "can, but for what Landlock keeps out of its reach",
}


def _identity(worker: dict[str, Any]) -> str:
    identity = worker.get("identity", "own")
    return "own-userns" if identity == "own" and worker.get("userns") else identity


def gaps(worker: dict[str, Any]) -> list[str]:
    """What this machine does not give a submission, from a worker's mode: one line each,
    said at the top of a run (empty where every protection is in force)."""
    lines = [f"sandbox failure: {failure}: no submission can be graded here"
             for failure in worker.get("failures", [])]
    lines += list(worker.get("unavailable", []))
    identity = _identity(worker)
    if identity != "pool":
        lines.append(IDENTITY_GAPS[identity])
    return lines


def exposed_folders(worker: dict[str, Any], folders: tuple[str, ...]) -> list[str]:
    """Where neither namespaces nor Landlock hide anything, the class folders (and outputs)
    that a submission's user may read: its permissions are then all that stands between a
    submission and its classmates' hand-ins. One line each."""
    import os
    import stat

    if worker.get("namespaces") or worker.get("landlock") or worker.get("failures"):
        return []
    own = worker.get("identity", "own") != "pool"
    lines = []
    for folder in folders:
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            continue
        if own or mode & (stat.S_IROTH | stat.S_IXOTH):
            lines.append(f"{folder} can be read by the submissions graded here"
                         + ("" if own else f": chmod o-rwx {folder} keeps them out"))
    return lines


def _row(ok: bool, what: str, detail: str = "") -> str:
    return f"  [{'x' if ok else ' '}] {what}" + (f": {detail}" if detail else "")


def _megabytes(value: int | None) -> str:
    return "none" if value is None or value < 0 else f"{value // 2 ** 20} MB"


COPY_STATES = {"hidden": "hidden (the sandbox sees an empty folder)",
               "confined": "hidden (Landlock refuses to open it)",
               "unreadable": "unreadable (permissions)", "readable": "READABLE by student code"}


def _landlock_detail(abi: int, hidden: list[str]) -> str:
    """What Landlock of this ABI does beyond files: TCP from ABI 4, signals and abstract Unix
    sockets from 6."""
    tcp = "no TCP" if abi >= 4 else "TCP not refused (ABI 4, Linux 6.7)"
    signals = "no signal beyond its own processes" if abi >= 6 else \
        "signals not refused (ABI 6, Linux 6.12)"
    return f"ABI {abi}: {tcp}; {signals}; hidden: {', '.join(hidden)}"


def render(isolation: dict[str, Any], running_as_root: bool, timeout: float) -> str:
    """One line per protection, each as the student's process read it back from the kernel
    (its user, capabilities, no_new_privs, filter, limits, namespaces), said plainly where one
    is missing."""
    worker = isolation.get("worker", {})
    own = set(isolation.get("own_namespaces", []))
    lines = [
        f"sandbox on this machine (grader running as {'root' if running_as_root else 'a normal user'}):",
        *_process_rows(isolation.get("limits", {}), timeout),
        _user_row(isolation, _identity(worker)),
        _capability_row(isolation),
        *_namespace_rows(isolation, worker, own),
        _seccomp_row(isolation, worker),
        _row(True, "importing grader or its solutions (the model answers), or opening their files, blocked "
                   "and flagged", "audit hook (best-effort: it shares the student's process)"),
        *_copy_lines(isolation.get("copies", {})),
    ]
    for problem in [*worker.get("failures", []), *worker.get("notes", []), *isolation.get("problems", [])]:
        lines.append(f"  warning: {problem}")
    if not running_as_root and "user" not in own:
        lines.append("  (run as root, as in CI or an autograder container, or on a kernel that "
                     "allows user namespaces, for namespaces)")
    elif not running_as_root:
        lines.append("  (run as root, as in CI or an autograder container, for a separate user)")
    return "\n".join(lines)


def _process_rows(limits: dict[str, int], timeout: float) -> list[str]:
    """The protections every machine gives: a process of its own, plain data back, limits."""
    return [
        _row(True, "a separate process for every submission, forked from one that never held another "
                   "submission; the grader's process never runs student code"),
        _row(True, "answers cross as plain data (numbers, arrays, text), checked, rebuilt and judged "
                   "in the grader; calls are sent only once the answers they hold are in"),
        _row(True, "time limit per call and for loading", f"{timeout:g} s (--timeout), enforced from "
                                                            f"outside by killing the process"),
        _row(limits.get("RLIMIT_AS", -1) > 0, "memory limit", f"{_megabytes(limits.get('RLIMIT_AS'))} (--memory-mb)"),
        _row("RLIMIT_CPU" in limits, "stdin closed, output captured and capped, CPU-time, file-size, "
                                     "open-file and process limits",
             ", ".join(f"{name[7:]} {value}" for name, value in sorted(limits.items()) if name != "RLIMIT_AS")),
    ]


def _user_row(isolation: dict[str, Any], identity: str) -> str:
    uid = isolation.get("uid", [isolation.get("user")])
    if identity == "pool":
        return _row(True, "runs as a user of the grader's own, one per worker",
                    f"uid {uid[0]}, gid {isolation.get('gid', ['?'])[0]}, no group (read back): it "
                    f"can't read what others can't, nor signal anyone's process but its own")
    return _row(False, "runs as a user of the grader's own", "no: " + IDENTITY_GAPS[identity]
                + f" (uid {uid[0]} read back)")


def _capability_row(isolation: dict[str, Any]) -> str:
    # The bounding set counts only where it could be emptied: a normal user can't, and
    # no_new_privs keeps any program from gaining what it bounds.
    held = {name: value for name, value in isolation.get("capabilities", {}).items()
            if value and (name != "CapBnd" or isolation.get("bounded"))}
    no_new_privs = bool(isolation.get("no_new_privs"))
    if not held and no_new_privs:
        detail = "none held, no_new_privs on"
    else:
        detail = ", ".join(f"{name} {value:#x}" for name, value in held.items()) or "no_new_privs off"
    return _row(not held and no_new_privs, "no capability, now or after starting a program (no_new_privs)", detail)


def _unavailable(worker: dict[str, Any], about: str) -> str:
    """What the worker said it could not have, of the protections named with `about`."""
    return "no: " + ", ".join(u for u in worker.get("unavailable", []) if about in u)


def _namespace_rows(isolation: dict[str, Any], worker: dict[str, Any], own: set[str]) -> list[str]:
    """The namespaces the student's process has of its own, and Landlock where they hide nothing."""
    hidden = sorted({*worker.get("hidden", []), *isolation.get("hidden", [])})
    namespaces = {"pid", "net", "mnt"} <= own
    landlock = int(isolation.get("landlock") or 0)  # its ABI: TCP from 4 on, signals from 6
    if "net" in own:
        network = ""
    else:
        network = "no: the syscall filter refuses sockets" if isolation.get("seccomp") else \
            "no: only Python sockets are blocked"
    if namespaces:
        confined = "not needed: namespaces hide them"
    else:
        confined = _landlock_detail(landlock, hidden) if landlock else _unavailable(worker, "Landlock")
    return [
        _row("pid" in own, "own PID namespace: no process outlives its grading, nor sees the grader",
             "" if "pid" in own else "no: processes are stopped and killed by the supervisor instead"),
        _row("net" in own, "own network namespace: no network", network),
        _row(namespaces and "ipc" in own, "own mount and IPC namespaces: private /tmp, /var/tmp, /dev/shm "
                                          "and shared memory, size-capped; every other folder read-only; "
                                          "a /dev with no terminal; hidden folders",
             ", ".join(hidden) if namespaces else "no"),
        _row(bool(landlock) or namespaces, "file access confined by Landlock where namespaces hide nothing: "
                                           "the hidden folders and every terminal refused, writes only to "
                                           "its own folder", confined),
    ]


def _seccomp_row(isolation: dict[str, Any], worker: dict[str, Any]) -> str:
    return _row(bool(isolation.get("seccomp")), "syscall filter (seccomp, built with libseccomp): no socket of "
                                                "any kind (Unix sockets by path included), no io_uring, no "
                                                "input pushed into a terminal, no namespace or mount, no "
                                                "keyring, ptrace or eBPF",
                "" if isolation.get("seccomp") else _unavailable(worker, "filter"))


def _copy_lines(copies: dict[str, str]) -> list[str]:
    """Every copy of the answer key found, and whether a submission could read it."""
    if not copies:
        return []
    exposed = [path for path, state in copies.items() if state == "readable"]
    return [_row(not exposed, "every copy of the answer key out of a submission's reach",
                 f"{len(copies)} found" if not exposed else
                 f"{len(exposed)} of {len(copies)} READABLE: run as root, or `grade seal`"),
            *[f"        {path}: {COPY_STATES.get(state, state)}" for path, state in copies.items()]]
