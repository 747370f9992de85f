"""The `grade` command's first step: a worker is started before anything else is imported,
so that the worker's start (a Python, numpy, the modules students import) runs on another core
while the grader imports its own modules and reads its options."""

from __future__ import annotations

import sys

# Commands that grade nothing: no worker is started ahead for them.
_NOT_GRADING = {"extract", "seal", "key", "assignments", "-h", "--help", "--version", "--sandbox-info"}


def main() -> None:
    arguments = sys.argv[1:]
    if arguments and arguments[0] not in _NOT_GRADING:
        from grader import processes

        processes.start_early()
    from grader.cli import main as cli_main

    cli_main()
