"""The assignments installed with the grader, one folder each (`grade assignments` lists them).

A folder holds everything that is the assignment's own: `assignment.toml` (its questions,
points, tolerances and how the series' class maps onto them), `cases.py` (the networks it is
checked on), `solution/<hand-in>.py` (the model answer, the grader's one reference),
`misconceptions.toml` (its catalogue of known mistakes), the stub students fill in with its
notebook, and `notes.md` (the guided notes). See the README's "Writing an assignment".
Like the grader's own package, every copy of this folder is hidden from submissions.
"""
