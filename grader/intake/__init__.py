"""Intake: what was handed in becomes something to grade. A class folder is read into students
(`discovery`), the file a student meant is chosen among several (`which_file`), and a .py file or
a notebook becomes cells (`loading`, `notebooks`), the self-check lines set aside
(`selfcheck_lines`). Nothing here runs student code."""
