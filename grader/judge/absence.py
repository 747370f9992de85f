"""Why a function the student wrote is not there when it is graded, so that the feedback does
not say "not defined" to a student who defined it. In the order they are looked for:

* replaced: their own top-level code assigned to the name (or deleted it) after the `def`.
  The series computes its gradients as `dJdW1, dJdW2 = NN.costFunctionPrime(X, y)`; in a file
  whose functions have the stub's names, that line leaves two arrays where they were.
* not reached: the `def` comes after a top-level statement that failed in the same cell (a
  `.py` file is one cell): Python stops a file, and a cell, at its first error.
* guarded: the `def` is inside `if __name__ == "__main__":`, which does not run when the file is
  imported to be graded.
* nested: the `def` is inside another function (indented one level too far).
* a method: the `def` is in a class of the student's own (the series' class, which the grader
  knows how to ask, is left to the feedback about it).
* not compiled: the `def` is in a notebook cell Python can't compile, so none of it ran.

Read from the cells' source with the grader's own parse, and from where the run said its
top-level statements failed; nothing else of the run. Top level includes the bodies of `if`,
`for`, `while`, `try`, `with` and `match` at module level, not those of functions or classes.
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TypeGuard

from grader.results import printable

MAX_STATEMENT = 80  # characters of a statement quoted
# Cells longer than this in all are not read (nothing is explained): parsing costs the grader
# about 1.4 s a megabyte, and an honest hand-in of this worksheet is a few dozen kilobytes.
MAX_READ = 512 * 1024



class Reason(str, enum.Enum):
    """Why the function is not there, in the order the reasons are looked for."""

    REPLACED = "replaced"
    DELETED = "deleted"
    NOT_REACHED = "not reached"
    GUARDED = "guarded"
    NESTED = "nested"
    METHOD = "method"
    NOT_COMPILED = "not compiled"


# A statement that runs at module level, or an `except` clause around some (it binds a name).
Statement = ast.stmt | ast.excepthandler
# Where a statement is, from its cell and line: "line 12", or "cell 3, line 2" in a notebook.
Where = Callable[[int, int], str]


@dataclass(frozen=True)
class Absence:
    name: str
    reason: Reason
    defined_at: str  # where the def is: "line 88", or "cell 2, line 5"
    at: str  # where the cause is: the statement that replaced it, the failure, the enclosing block
    statement: str  # the cause's first line as written (shortened): quoted in the feedback
    detail: str = ""  # what the failure was (not reached), the enclosing function's or class's name
    unit: str = "file"  # what a failure stops: the file (a .py), or a notebook's cell


@dataclass(frozen=True)
class Failure:
    """A top-level statement that stopped its cell: it raised, ran out of time or ended the
    process (the run's load problems)."""

    cell: int
    line: int
    message: str


@dataclass(frozen=True)
class Cells:
    """A submission's cells as read once for every question that asks (a file may be 2 MB):
    each cell's source, its statements at module level with the line of the main guard around
    them (None: a cell Python can't parse), and every function defined inside another function
    or in a class's body, by name."""

    sources: tuple[str, ...]
    top: tuple[tuple[tuple[Statement, int | None], ...] | None, ...]
    nested: dict[str, tuple[int, int, int, str]]  # name: (cell, line, enclosing function's line, its name)
    methods: dict[str, list[tuple[int, int, int, str]]]  # name: [(cell, line, class's line, its name)...]


def read(sources: Sequence[str]) -> Cells:
    """The cells, read (see Cells); nothing of them when they are past MAX_READ in all."""
    if sum(len(source) for source in sources) > MAX_READ:
        return Cells((), (), {}, {})
    top: list[tuple[tuple[Statement, int | None], ...] | None] = []
    nested: dict[str, tuple[int, int, int, str]] = {}
    methods: dict[str, list[tuple[int, int, int, str]]] = {}
    for cell, source in enumerate(sources):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            top.append(None)
            continue
        top.append(tuple(_top_level(tree.body)))
        _read_definitions(tree, cell, nested, methods)
    return Cells(tuple(sources), tuple(top), nested, methods)


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _read_definitions(tree: ast.Module, cell: int, nested: dict[str, tuple[int, int, int, str]],
                      methods: dict[str, list[tuple[int, int, int, str]]]) -> None:
    """Every function of a cell defined inside another function (into `nested`) or in a
    class's body (into `methods`): one walk, each node with the function around it and the
    class whose body it is in."""
    stack: list[tuple[ast.AST, _Function | None, ast.ClassDef | None]] = [(tree, None, None)]
    while stack:
        node, function, owner = stack.pop()
        if isinstance(node, _Function):
            if function is not None:
                nested.setdefault(node.name, (cell, node.lineno, function.lineno, function.name))
            elif owner is not None:
                methods.setdefault(node.name, []).append((cell, node.lineno, owner.lineno, owner.name))
        inner = node if isinstance(node, _Function) else function
        body = {id(child) for child in node.body} if isinstance(node, ast.ClassDef) else set()
        for child in ast.iter_child_nodes(node):
            stack.append((child, inner, node if isinstance(node, ast.ClassDef) and id(child) in body else None))


def unbound(sources: Sequence[str], names: Iterable[str]) -> tuple[str, ...]:
    """Which of `names` the cells read but never bind anywhere (no assignment, `def`, `class`,
    import by name, parameter...): what the code expects from elsewhere, an `import *` of a
    module not handed in, say. A cell Python can't parse says nothing, nor do cells past
    MAX_READ in all."""
    if sum(len(source) for source in sources) > MAX_READ:
        return ()
    read: set[str] = set()
    bound: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            else:
                bound.update(_binds(node))
    return tuple(name for name in names if name in read and name not in bound)


def _binds(node: ast.AST) -> Iterator[str]:
    """The names a node other than a plain name binds, anywhere (not only at the top level)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        yield from (alias.asname or alias.name.partition(".")[0] for alias in node.names if alias.name != "*")
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, ast.ExceptHandler) and node.name:
        yield node.name


# One way a function can be absent: the Absence found, or None.
_Look = Callable[[Cells, tuple[str, ...], tuple[Failure, ...], Where], "Absence | None"]


def explain(cells: Cells, names: Iterable[str], failures: Iterable[Failure], where: Where,
            notebook: bool = False, known_classes: Iterable[str] = ()) -> Absence | None:
    """Why none of `names` (a question's accepted names, in order) is a function when graded,
    though the student wrote one; None when nothing says they did. `where(cell, line)` says
    where a statement is; a method of one of `known_classes` is not looked for."""
    wanted, stopped = tuple(names), tuple(failures)
    for look in (_replaced, _not_reached, _guarded, _nested, _method(set(known_classes)), _not_compiled):
        found = look(cells, wanted, stopped, where)
        if found is not None:
            return replace(found, unit="cell" if notebook else "file")
    return None


def _quote(sources: Sequence[str], cell: int, line: int) -> str:
    lines = sources[cell].splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    if len(text) > MAX_STATEMENT:
        text = text[:MAX_STATEMENT - 3] + "..."
    return printable(text)


def _is_def(statement: Statement, wanted: tuple[str, ...]) -> TypeGuard[_Function]:
    return isinstance(statement, _Function) and statement.name in wanted


def _replaced(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where) -> Absence | None:
    """The last top-level statement that binds or deletes a name after its last def."""
    defined: dict[str, tuple[int, int]] = {}
    replaced: dict[str, Absence] = {}
    for cell, statements in enumerate(cells.top):
        for statement, guard in statements or ():
            if guard is not None:  # never runs when graded
                continue
            if _is_def(statement, wanted):
                defined[statement.name] = (cell, statement.lineno)
                replaced.pop(statement.name, None)
                continue
            for name in _bound(statement):
                if name in wanted and name in defined:
                    reason = Reason.DELETED if isinstance(statement, ast.Delete) else Reason.REPLACED
                    replaced[name] = Absence(name, reason, where(*defined[name]), where(cell, statement.lineno),
                                             _quote(cells.sources, cell, statement.lineno))
    return next((replaced[name] for name in wanted if name in replaced), None)


def _not_reached(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where
                 ) -> Absence | None:
    """A top-level def after the failure that stopped its cell. The failure's line may be in
    an earlier function the failing statement called: the def still came after the statement
    (had it run, the function would be there, not having been replaced)."""
    for cell, statements in enumerate(cells.top):
        for statement, guard in statements or ():
            if guard is not None or not _is_def(statement, wanted):
                continue
            stopped = [f for f in failures if f.cell == cell and 0 < f.line < statement.lineno]
            if stopped:
                first = min(stopped, key=lambda f: f.line)
                return Absence(statement.name, Reason.NOT_REACHED, where(cell, statement.lineno),
                               where(cell, first.line), _quote(cells.sources, cell, first.line), first.message)
    return None


def _guarded(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where) -> Absence | None:
    """A def inside `if __name__ == "__main__":`."""
    for cell, statements in enumerate(cells.top):
        for statement, guard in statements or ():
            if guard is not None and _is_def(statement, wanted):
                return Absence(statement.name, Reason.GUARDED, where(cell, statement.lineno), where(cell, guard),
                               _quote(cells.sources, cell, guard))
    return None


def _nested(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where) -> Absence | None:
    """A def inside another function (a class's methods are another matter: see _method)."""
    for name in wanted:
        if name in cells.nested:
            cell, line, outer_line, outer = cells.nested[name]
            return Absence(name, Reason.NESTED, where(cell, line), where(cell, outer_line),
                           _quote(cells.sources, cell, outer_line), outer)
    return None


def _method(known_classes: set[str]) -> _Look:
    """A def in the body of a class of the student's own."""
    def look(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where) -> Absence | None:
        for name in wanted:
            for cell, line, class_line, owner in cells.methods.get(name, ()):
                if owner not in known_classes:
                    return Absence(name, Reason.METHOD, where(cell, line), where(cell, class_line),
                                   _quote(cells.sources, cell, class_line), owner)
        return None

    return look


def _not_compiled(cells: Cells, wanted: tuple[str, ...], failures: tuple[Failure, ...], where: Where
                  ) -> Absence | None:
    """A top-level def in a cell Python can't compile (a notebook's: a .py that can't compile
    is not graded at all)."""
    for cell, statements in enumerate(cells.top):
        if statements is not None:
            continue
        for index, text in enumerate(cells.sources[cell].splitlines(), 1):
            match = re.match(r"(?:async\s+)?def\s+(\w+)\s*\(", text)
            if match and match.group(1) in wanted:
                failure = next((f for f in failures if f.cell == cell), None)
                return Absence(match.group(1), Reason.NOT_COMPILED, where(cell, index),
                               where(cell, failure.line) if failure and failure.line else "",
                               _quote(cells.sources, cell, failure.line) if failure and failure.line else "",
                               failure.message if failure else "")
    return None


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
        any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def _top_level(body: list[ast.stmt], guard: int | None = None) -> Iterator[tuple[Statement, int | None]]:
    """The statements that run at module level, in source order, compound ones before their
    bodies, each with the line of the `if __name__ == "__main__":` it is inside (or None)."""
    for statement in body:
        yield statement, guard
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        inner = guard
        if guard is None and isinstance(statement, ast.If) and _is_main_guard(statement.test):
            yield from _top_level(statement.body, statement.lineno)
            yield from _top_level(statement.orelse, guard)
            continue
        for block in ("body", "orelse", "finalbody"):
            yield from _top_level(getattr(statement, block, []) or [], inner)
        for handler in getattr(statement, "handlers", []) or []:
            yield handler, inner  # `except E as name` binds name
            yield from _top_level(handler.body, inner)
        for case in getattr(statement, "cases", []) or []:
            yield from _top_level(case.body, inner)


def _bound(statement: Statement) -> Iterator[str]:
    """The module-level names a statement (its own header, not its body) binds or deletes."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        targets = [statement.target] if getattr(statement, "value", True) is not None else []
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    elif isinstance(statement, ast.Delete):
        targets = statement.targets
    elif isinstance(statement, ast.ExceptHandler):
        if statement.name:
            yield statement.name
        return
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        for alias in statement.names:
            if alias.name != "*":
                yield alias.asname or alias.name.partition(".")[0]
        return
    else:
        return
    for target in targets:  # `a, (b, *c) = ...` binds a, b and c; `a[i] = ...` binds nothing
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                yield node.id
