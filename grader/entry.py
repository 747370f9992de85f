"""The `grade` command's first step: a worker is started before the command's own modules (the
CLI, the judging, the reports) are imported, so that the worker's start (a Python, numpy, the
modules students import) runs on another core while the grader imports them and reads its
options (starting it takes the sandbox's client, and numpy, first)."""

from __future__ import annotations

import os
import sys

# Commands that grade nothing: no worker is started ahead for them, nor for a command's help.
_NOT_GRADING = {"extract", "seal", "key", "assignments", "student-check", "-h", "--help", "--version",
                "--sandbox-info"}


def main() -> None:
    arguments = sys.argv[1:]
    if arguments and arguments[0] not in _NOT_GRADING and not {"-h", "--help"} & set(arguments):
        from grader.sandbox import workers as processes

        processes.start_early()
    from grader.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as end:
        _exit_now(end.code)
    _exit_now(0)


def _exit_now(code: int | str | None) -> None:
    """End the process as SystemExit(code) would, without the interpreter's teardown: by now
    every file the command wrote is closed, and the workers end with the grader (their parent's
    death is their signal to die). What the teardown would do is free memory object by object,
    which the kernel does at once: 30-50 ms of a one-file grade."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # a message: said, then the status 1
        print(code, file=sys.stderr)
        status = 1
    processes = sys.modules.get("grader.sandbox.workers")
    if processes is not None:  # the workers' folders; the workers end with the grader
        processes.remove_scratch()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`grade ... | head`): as Python says it
            status = status or 120
    os._exit(status)
