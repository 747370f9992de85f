"""The sandbox: runs untrusted student code in processes of its own and brings back plain,
checked values (`client`), on warm workers (`workers`), out of reach of every copy of the
answer key (`key_copies`). `child/` is the program those processes run: nothing in it is the
grader's but the wire's vocabulary, which both sides share."""

from grader.sandbox.client import (Call, CallOutcome, Cell, Confinement, Contract, Limits, Module,
                                   RunResult, SandboxError, Traced, Unsupported, cancel_all, probe, run)

__all__ = ["Call", "CallOutcome", "Cell", "Confinement", "Contract", "Limits", "Module", "RunResult",
           "SandboxError", "Traced", "Unsupported", "cancel_all", "probe", "run"]
