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
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader import assignment
from grader.assignment import Assignment
from grader.results import printable

_LISTED = 10  # files named in the note; the rest counted


@dataclass(frozen=True)
class Candidate:
    """One file that could be the hand-in, with what decides between them."""

    path: Path
    name: str  # the name the student gave it (an LMS's prefix taken off)
    defines: int  # how many of the worksheet's questions it answers (a function with a body)
    stub: bool  # it holds the stub's functions, none filled in
    order: tuple = ()  # an LMS's upload order, then the modification time: the last tiebreak
    work: Assignment = field(default_factory=assignment.default, compare=False, repr=False)

    @property
    def named_like_the_exercise(self) -> bool:
        stem = Path(self.name).stem
        return re.sub(r"-\d+$", "", stem).lower() == self.work.handin.lower()

    def describe(self) -> str:
        if self.stub:
            return "the stub, not filled in"
        if not self.defines:
            return "answers none of the worksheet's questions"
        return f"answers {self.defines} of the worksheet's {len(self.work.questions)} questions"


@dataclass(frozen=True)
class Choice:
    graded: Candidate
    set_aside: tuple[Candidate, ...]

    @property
    def undecided(self) -> bool:
        """Nothing but an upload order could tell the first two apart (and there is none)."""
        return bool(self.set_aside) and _merit(self.graded) == _merit(self.set_aside[0]) \
            and self.graded.order == self.set_aside[0].order

    def notes(self) -> tuple[str, ...]:
        """What every report says, when there was a choice to make."""
        if not self.set_aside:
            return ()
        # File names are the student's text: written out, and a folder of hundreds cut short.
        shown = [f"{printable(c.name)} ({c.describe()})" for c in self.set_aside[:_LISTED]]
        more = len(self.set_aside) - _LISTED
        aside = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        return (f"graded {printable(self.graded.name)} ({self.graded.describe()}); set aside: {aside}",)


@lru_cache(maxsize=8)
def _question_of(work: Assignment) -> dict[str, str]:
    """The question each name a student may use answers (aliases and constants included)."""
    return {name: q.id for q in work.questions for name in (q.constants or (q.id, *q.aliases))}


def _stub_body(body: list[ast.stmt]) -> bool:
    """A body that does nothing yet: a docstring, then pass, ... or raise NotImplementedError."""
    rest = body[1:] if body and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str) else body
    if not rest:
        return True
    if len(rest) != 1:
        return False
    only = rest[0]
    if isinstance(only, ast.Pass):
        return True
    if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis:
        return True
    if isinstance(only, ast.Raise) and only.exc is not None:
        target = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False


def _code(path: Path) -> str:
    """The Python of a .py file or of a notebook's code cells (IPython syntax set aside), or
    "" if it can't be read."""
    from grader.loading import MAX_NOTEBOOK_BYTES, SubmissionError, read_text

    try:
        text = read_text(path, MAX_NOTEBOOK_BYTES)
    except (SubmissionError, OSError):
        return ""
    if path.suffix != ".ipynb":
        return text
    from grader.notebooks import NotebookError, read_notebook

    try:
        return "\n".join(cell.source for cell in read_notebook(path, text).cells)
    except NotebookError:
        return ""


_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.MULTILINE)


def what_it_defines(path: Path, work: Assignment) -> tuple[int, bool]:
    """(how many worksheet questions the file answers, whether it is the stub, not filled in)."""
    code = _code(path)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Work with a syntax error is still work: count its definitions by their text.
        names = _question_of(work)
        return len({names[n] for n in _DEF.findall(code) if n in names}), False
    filled, empty = set(), set()
    names = _question_of(work)
    for node in ast.walk(tree):  # functions anywhere (the series' are methods of a class)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            (empty if _stub_body(node.body) else filled).add(names[node.name])
    for node in tree.body:  # constants at the top level only (a method's local dJdW2 is no answer)
        if isinstance(node, ast.Assign):  # A2_ROWS = "examples"; the stub's `= None` is empty
            named = {names[t.id] for t in node.targets if isinstance(t, ast.Name) and t.id in names}
            unset = isinstance(node.value, ast.Constant) and node.value.value in (None, "", ...)
            (empty if unset else filled).update(named)
    return len(filled), bool(empty) and not filled


def candidate(path: Path, work: Assignment, name: str | None = None, order: tuple = ()) -> Candidate:
    defines, stub = what_it_defines(path, work)
    return Candidate(path, name or path.name, defines, stub, order, work)


def _merit(c: Candidate) -> tuple:
    """What the file does, best first: answers anything, is named so, answers most, a notebook."""
    return (c.defines > 0, c.named_like_the_exercise, c.defines, c.path.suffix == ".ipynb")


def choose(candidates: list[Candidate]) -> Choice:
    """The file to grade among several (the latest upload only between equals), the others in
    their order."""
    ordered = sorted(candidates, key=lambda c: (_merit(c), c.order), reverse=True)
    return Choice(ordered[0], tuple(ordered[1:]))
