"""The entry point of the program that runs student code: `serve FD`, a worker (see worker)
serving the grader on descriptor FD.

`grader.sandbox.workers.child_boot` starts it as `python -I -c <boot> serve FD`: the boot loads
this folder as a package under a private name (see `workers.CHILD_PACKAGE`), nothing added to
the import path, each module from Python's bytecode cache, and calls `main`.
"""

from __future__ import annotations

import sys

from .worker import serve


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "serve":
        serve(int(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
