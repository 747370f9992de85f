"""The sandbox: runs untrusted student code in processes of its own and brings back plain,
checked values (`client`), on warm workers (`workers`), out of reach of every copy of the
answer key (`key_copies`). `child/` is the program those processes run, a package of its own:
nothing in it is the grader's, and the grader imports of it only the vocabulary both sides share
(`child/protocol.py`), the wire format (`child/wire.py`) and what is named here.

Its public face: `run` and `probe`, with the values they take and give; the words a student
reads of a package not installed where grading runs (`missing_message`) and the modules that
are always stand-ins (`PLOTTING_ROOTS`); and the pieces a call is made with, which the
in-process self-check (`grader.selfcheck.notebook`) uses as the runner does (`Tracer`,
`series_adapter`, `own_cost_values`, `reordered_names`, `plain_name`), and J passed on as one
number inside the calls that take it so (`one_number_total`), which `grade audit` mirrors."""

from grader.results import Unsupported
from grader.sandbox.child.calls import (
    Tracer,
    one_number_total,
    own_cost_values,
    plain_name,
    reordered_names,
    series_adapter,
)
from grader.sandbox.child.standins import PLOTTING_ROOTS, missing_message
from grader.sandbox.client import (
                                   Call,
                                   CallOutcome,
                                   Cell,
                                   Confinement,
                                   Contract,
                                   Limits,
                                   Module,
                                   RunResult,
                                   SandboxError,
                                   Traced,
                                   cancel_all,
                                   probe,
                                   run,
)

__all__ = ["PLOTTING_ROOTS", "Call", "CallOutcome", "Cell", "Confinement", "Contract", "Limits", "Module",
           "RunResult", "SandboxError", "Traced", "Tracer", "Unsupported", "cancel_all", "missing_message",
           "one_number_total", "own_cost_values", "plain_name", "probe", "reordered_names", "run", "series_adapter"]
