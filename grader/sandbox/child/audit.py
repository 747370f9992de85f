"""The runner's audit hook (PEP 578): what student code may not reach, refused and flagged from
inside its own process. It blocks the answer key (the grader's package, the model answers,
every protected path however it is named) and the network, and flags processes and programs
started. Best-effort for the flags: the student's code shares this process and can silence its
channel; the worker sees what it can from outside, and the walls that hold are the kernel's
(namespaces, Landlock, seccomp).

Part of the program that runs student code; standard library only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .protocol import Flag, FromRunner
from .system import inside

# The top-level names student code may not import: the grader, and the model answers
# (`solutions`, and `assignments` as installations before it named them), and this program's
# own package (loaded under a private name: what it holds is in memory already, nothing more
# comes from its folder).
_REFUSED = ("grader", "solutions", "assignments", __name__.partition(".")[0])


def install_audit_hook(send: Callable[[bytes, bytes], None], protected: Sequence[str]) -> None:
    """Block and flag the answer key and the network; flag processes and programs started.
    Audit hooks can't be removed once added. A relative path is resolved against the working
    folder and against every open folder descriptor, so that opening with dir_fd (or after
    fchdir) is caught too."""
    flag = _flagger(send)
    refuse_import = _import_refuser(flag)
    reaches_key = _key_reacher(protected)
    _isinstance, _hasattr, _str, _bytes = isinstance, hasattr, str, bytes

    class AnswerKeyFinder:
        """importlib.import_module raises no "import" audit event: refuse it here too."""

        @staticmethod
        def find_spec(name: str, path: Any = None, target: Any = None) -> None:
            refuse_import(name)

    sys.meta_path.insert(0, AnswerKeyFinder)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "import":
            refuse_import(args[0])
        elif event == "open":
            path = args[0]
            if (_isinstance(path, (_str, _bytes)) or _hasattr(path, "__fspath__")) and reaches_key(path):
                flag(Flag.OPENED_FILES)
                raise PermissionError(f"{path}: the grader's files are off limits")
        elif event.startswith("socket.") and event != "socket.__new__":
            flag(Flag.USED_NETWORK)
            raise PermissionError("submissions have no network")
        elif event in ("os.fork", "os.forkpty"):
            flag(Flag.STARTED_PROCESS)
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            flag(Flag.STARTED_PROGRAM)

    sys.addaudithook(hook)


def _flagger(send: Callable[[bytes, bytes], None]) -> Callable[[Flag], None]:
    """`flag(which)`: said to the worker, once each."""
    flagged: set[Flag] = set()
    kind, texts = FromRunner.FLAG.value, {which: which.value.encode() for which in Flag}

    def flag(which: Flag) -> None:
        if which not in flagged:
            flagged.add(which)
            send(kind, texts[which])

    return flag


def _import_refuser(flag: Callable[[Flag], None]) -> Callable[[str], None]:
    """`refuse_import(name)`: ImportError, flagged, for a module student code may not import:
    one of _REFUSED, or a model answer under the name the grader loads it by."""
    _str, refused = str, _REFUSED

    def refuse_import(name: str) -> None:
        root = _str(name).split(".")[0]
        if root in refused or root.startswith("_assignment_"):
            flag(Flag.IMPORTED_SOLUTIONS if root in ("solutions", "assignments") or root.startswith("_assignment_")
                 else Flag.IMPORTED_GRADER)
            raise ImportError(f"{name} is not importable from a submission")

    return refuse_import


def _key_reacher(protected: Sequence[str]) -> Callable[[Any], bool]:
    """`reaches_key(path)`: whether a path (as `open` was given it) is inside a protected one."""
    realpath, join, fspath, listdir, readlink = (os.path.realpath, os.path.join, os.fspath,
                                                 os.listdir, os.readlink)
    isdir, getcwd = os.path.isdir, os.getcwd
    _isinstance, _any, _bytes = isinstance, any, bytes

    def bases() -> list[str]:
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

    def reaches_key(path: Any) -> bool:
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

    return reaches_key
