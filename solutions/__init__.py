"""What the grader keeps of each assignment installed with it, one folder each (`grade
assignments` lists them): `assignment.toml` (its questions, points, tolerances and how the
series' class maps onto them), `cases.py` (the networks it is checked on), `<hand-in>.py` (the
model answer, the grader's one reference), `misconceptions.toml` (its catalogue of known
mistakes), `series.py` (the series' class adapter) and `mistakes.py` where its catalogue needs
one. What students are given lives in `exercises/<name>/`. Installed, this folder is the
grader's `grader/solutions`; like the grader's own package, every copy of it is hidden from
submissions. See the README's "Writing an assignment".
"""
