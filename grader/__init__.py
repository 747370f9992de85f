"""backprop-grader: a sandboxed auto-grader for the "Backpropagation guided notes" worksheet.

`from grader import check` gives students an in-notebook self-check; the `grade` command is
the grader.
"""


def __getattr__(name):
    # Imported on first use: the `grade` command never pays for the self-check's imports.
    if name == "check":
        from grader.selfcheck.notebook import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
