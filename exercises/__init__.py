"""What students are given for each assignment installed with the grader, one folder each: the
stub `<hand-in>.py` they fill in, its notebook, and the guided notes `notes.md`. Nothing here is
an answer. Installed, this folder is the grader's `grader/exercises`.
"""
