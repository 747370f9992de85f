"""Which file of a hand-in with several is graded, and why, said out loud.

A student's attempt may hold more than one file: an LMS keeps every attachment (Canvas:
`..._backprop.py` and `..._utils.py`), a Moodle folder a draft beside the answers, a Gradescope
upload the untouched stub beside the real work. The file graded is the one that does the
worksheet: among the files that define at least one of its functions (with a body, not the
stub's `raise NotImplementedError`), the one named like the exercise (`backprop.py`,
`backprop.ipynb`, with an LMS's prefix and `-1` suffix taken off), then the one that defines
the most of them, and only then the latest upload. An attachment id or a modification time
never decides alone between files that differ in what they do. The files not graded are
listed, each with what it holds, in every report.

Choosing reads each file without running it, and parses (with `ast`) only a file of at most
MAX_PARSED bytes: a larger one is judged by the names of the functions it defines, read as text
a chunk at a time, and one too large to be graded at all is not read. Every report says which.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader.assignment import Assignment
from grader.results import printable

_LISTED = 10  # files named in the note; the rest counted
# The largest file parsed to choose: parsing costs the grader about 1.4 s and 300 MB a megabyte
# (a 10 MB file took 6.1 GB), and an honest hand-in of this worksheet is a few dozen kilobytes.
MAX_PARSED = 512 * 1024


@dataclass(frozen=True)
class Candidate:
    """One file that could be the hand-in, with what decides between them."""

    path: Path
    name: str  # the name the student gave it (an LMS's prefix taken off)
    defines: int  # how many of the worksheet's questions it answers (a function with a body)
    stub: bool  # it holds the stub's functions, none filled in
    assignment: Assignment = field(compare=False, repr=False)  # whose hand-in it could be
    order: tuple = ()  # an LMS's upload order, then the modification time: the last tiebreak
    gradable: bool = True  # False: too large to be graded, so never chosen over one that is
    read: str = ""  # how it was read, when not closely: too large to parse, or to grade at all

    @property
    def named_like_the_exercise(self) -> bool:
        stem = Path(self.name).stem
        return re.sub(r"-\d+$", "", stem).lower() == self.assignment.handin.lower()

    def describe(self) -> str:
        if not self.gradable:
            return self.read
        if self.stub:
            what = "the stub, not filled in"
        elif not self.defines:
            what = "answers none of the worksheet's questions"
        else:
            what = f"answers {self.defines} of the worksheet's {len(self.assignment.questions)} questions"
        return f"{what}; {self.read}" if self.read else what


@dataclass(frozen=True)
class Choice:
    graded: Candidate
    set_aside: tuple[Candidate, ...]
    searched: tuple[str, ...] = ()  # what looking for the files said (see discovery.Found)

    @property
    def undecided(self) -> bool:
        """Nothing but an upload order could tell the first two apart (and there is none)."""
        return bool(self.set_aside) and _merit(self.graded) == _merit(self.set_aside[0]) \
            and self.graded.order == self.set_aside[0].order

    def notes(self) -> tuple[str, ...]:
        """What every report says: what looking for the files left out, and the choice made
        when there was one."""
        if not self.set_aside:
            return self.searched
        # File names are the student's text: written out, and a folder of hundreds cut short.
        shown = [f"{printable(c.name)} ({c.describe()})" for c in self.set_aside[:_LISTED]]
        more = len(self.set_aside) - _LISTED
        aside = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        return (*self.searched,
                f"graded {printable(self.graded.name)} ({self.graded.describe()}); set aside: {aside}")


@lru_cache(maxsize=8)
def _question_of(assignment: Assignment) -> dict[str, str]:
    """The question each name a student may use answers (aliases and constants included)."""
    return {name: q.id for q in assignment.questions for name in (q.constants or (q.id, *q.aliases))}


def _stub_body(body: list[ast.stmt]) -> bool:
    """A body that does nothing yet: a docstring, then pass, ... or raise NotImplementedError."""
    first = body[0] if body else None
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
        and isinstance(first.value.value, str)
    rest = body[1:] if docstring else body
    if not rest:
        return True
    return len(rest) == 1 and _does_nothing(rest[0])


def _does_nothing(only: ast.stmt) -> bool:
    """pass, ..., or raise NotImplementedError (the stub's body)."""
    if isinstance(only, ast.Pass):
        return True
    if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis:
        return True
    if isinstance(only, ast.Raise) and only.exc is not None:
        target = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False


def _code(path: Path, check_modules: tuple[str, ...]) -> str:
    """The Python of a .py file or of a notebook's code cells (IPython syntax set aside), or
    "" if it can't be read."""
    from grader.intake.loading import SubmissionError, kind_of, read_text

    try:
        text = read_text(path, MAX_PARSED)
    except (SubmissionError, OSError):
        return ""
    if kind_of(path) != ".ipynb":
        return text
    from grader.intake.notebooks import NotebookError, read_notebook

    try:
        return "\n".join(cell.source for cell in read_notebook(path, text, check_modules).cells)
    except NotebookError:
        return ""


_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.MULTILINE)
# A definition as it stands in a file's text: at a line's start, or in a notebook's JSON at the
# start of a line of a cell's source (after a quote, or after an escaped newline).
_DEF_IN_TEXT = re.compile(r'(?:^|\\n|")[ \t]*def[ \t]+(\w+)[ \t]*\(', re.MULTILINE)


def _kib(size: int) -> str:
    return f"{size // 1024:,} KiB"


def _unparsed(path: Path, assignment: Assignment) -> tuple[int, bool, str] | None:
    """For a file too large to parse: (how many worksheet questions it defines a function for,
    by name, True, how it was read); too large to be graded: (0, False, why); None otherwise."""
    from grader.intake.loading import (
        MAX_NOTEBOOK_BYTES,
        MAX_SOURCE_BYTES,
        SubmissionError,
        kind_of,
        text_matches,
    )

    try:
        size = path.lstat().st_size
    except OSError:
        return None  # read as before, which says why it can't be
    limit = MAX_NOTEBOOK_BYTES if kind_of(path) == ".ipynb" else MAX_SOURCE_BYTES
    if size > limit:
        return 0, False, f"too large to be graded: {_kib(size)}, where a {path.suffix} file may be {_kib(limit)}"
    if size <= MAX_PARSED:
        return None
    try:
        found = text_matches(path, _DEF_IN_TEXT, limit)
    except SubmissionError:
        found = set()
    names = _question_of(assignment)
    return (len({names[n] for n in found if n in names}), True,
            f"{_kib(size)}, more than the {_kib(MAX_PARSED)} read closely: its functions counted by name")


def what_it_defines(path: Path, assignment: Assignment) -> tuple[int, bool]:
    """(how many worksheet questions the file answers, whether it is the stub, not filled in),
    for a file small enough to parse (see `_unparsed`)."""
    code = _code(path, assignment.check_modules)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Work with a syntax error is still work: count its definitions by their text.
        names = _question_of(assignment)
        return len({names[n] for n in _DEF.findall(code) if n in names}), False
    filled: set[str] = set()
    empty: set[str] = set()
    names = _question_of(assignment)
    for node in ast.walk(tree):  # functions anywhere (the series' are methods of a class)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            (empty if _stub_body(node.body) else filled).add(names[node.name])
    for node in tree.body:  # constants at the top level only (a method's local dJdW2 is no answer)
        if isinstance(node, ast.Assign):  # A2_ROWS = "examples"; the stub's `= None` is empty
            named = {names[t.id] for t in node.targets if isinstance(t, ast.Name) and t.id in names}
            unset = isinstance(node.value, ast.Constant) and node.value.value in (None, "", ...)
            (empty if unset else filled).update(named)
    return len(filled), bool(empty) and not filled


def candidate(path: Path, assignment: Assignment, name: str | None = None, order: tuple = ()) -> Candidate:
    unparsed = _unparsed(path, assignment)
    if unparsed is not None:
        defines, gradable, read = unparsed
        return Candidate(path, name or path.name, defines, False, assignment, order, gradable, read)
    defines, stub = what_it_defines(path, assignment)
    return Candidate(path, name or path.name, defines, stub, assignment, order)


def _merit(c: Candidate) -> tuple:
    """What the file does, best first: can be graded, answers anything, is named so, answers
    most, a notebook."""
    return (c.gradable, c.defines > 0, c.named_like_the_exercise, c.defines, c.path.suffix.lower() == ".ipynb")


def choose(candidates: list[Candidate]) -> Choice:
    """The file to grade among several (the latest upload only between equals), the others in
    their order."""
    ordered = sorted(candidates, key=lambda c: (_merit(c), c.order), reverse=True)
    return Choice(ordered[0], tuple(ordered[1:]))
