"""The program that runs student code: a worker serving the grader, its fork server, and the
runner where student code runs. The standard library and numpy (and, in the worker alone,
pyseccomp to build the syscall filter) only: it can't reach the grader's
other modules (a worker loads this folder alone, under a private name, and the grader's copies
are hidden from it), and the grader imports only its vocabulary (`protocol`) and the wire
format both sides share (`wire`).

A reviewer reads it in this order: `protocol` (what each frame means), `wire` (frames and
values), `system` (the system calls), `worker` and `fork_server` (the two processes that never
run student code), `runner` with `audit`, `cells`, `calls` and `standins` (the process that
does), `__main__` (how it starts). Nothing is imported here: loading this package runs nothing.
"""
