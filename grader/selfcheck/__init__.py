"""The self-check: `check()` in an instructor's notebook, graded by the grader's own code in
the notebook's process (`notebook`), and the one-file check handed to students, which needs
numpy only (`handout` builds it around `handout_runtime`, with `handout_shim` standing in for
the grader's names that the comparison code it copies uses)."""
