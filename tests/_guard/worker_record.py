"""The `sandbox` marker's guard: a record of every sandbox worker a process starts.

A worker is the grader's `python -I -c <child program> serve FD` (grader.sandbox.workers.
Worker). While GRADER_TESTS_WORKERS_RECORD names a file, every such start in this process is
written to it: the test process's own (conftest installs the hook), and that of each `grade`
command a test runs (sitecustomize.py, beside this file, installs it there: conftest puts this
folder on the command's PYTHONPATH). conftest fails a test not marked `sandbox` whose record is
not empty.
"""

from __future__ import annotations

import os
import sys

RECORD = "GRADER_TESTS_WORKERS_RECORD"


def note(what: str) -> None:
    """Add a line to the record, if one is being kept."""
    path = os.environ.get(RECORD)
    if path:
        with open(path, "a", encoding="utf-8") as record:
            record.write(f"{what} (process {os.getpid()})\n")


def _on_event(event: str, args: tuple) -> None:
    if event == "subprocess.Popen":
        argv = args[1]
        if isinstance(argv, (list, tuple)) and "serve" in argv and "-c" in argv:
            note("started a worker")


def install() -> None:
    """Watch this process's starts (an audit hook stays for the process's life; it writes only
    while a record is named)."""
    sys.addaudithook(_on_event)
