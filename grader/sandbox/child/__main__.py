"""The entry point of the program that runs student code.

`processes.child_boot` runs _wire, _system, _standins, _runner, _worker and this file, in that
order and in one namespace (each from Python's bytecode cache), started as
`python -I -c <boot> serve FD`: a worker (see _worker) serving the grader on descriptor FD. A
security reviewer reads the parts in that order: the wire format, the system calls, the
stand-ins, the student's process, the worker that drives it.
"""


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))


if __name__ == "__main__":
    main()
