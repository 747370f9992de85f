"""The entry point of the program that runs student code.

`processes.CHILD_SOURCE` is _wire, _system, _standins, _runner, _worker and this file, joined
and started as `python -I -c <source> serve FD`: a worker (see _worker) serving the grader on
descriptor FD. A security reviewer reads the parts in that order: the wire format, the system
calls, the stand-ins, the student's process, the worker that drives it.
"""


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))


if __name__ == "__main__":
    main()
