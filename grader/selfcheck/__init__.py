"""The self-check: `check()` in an instructor's notebook, graded by the grader's own code in
the notebook's process (`notebook`), and the one-file check handed to students, which needs
numpy only (`handout` builds it around `handout_runtime`)."""
