"""Running the student's cells in the runner, as Python runs a file: each cell compiled and run
whole, announced to the worker first (FromRunner.CELL); a cell the worker names in `stop_at`
(one that overran or ended the process when run whole) runs a statement at a time instead, a
marker before each announcing it (FromRunner.STATEMENT), up to the statement to stop before
(None: to its end), so that the one that hangs is found and skipped. A statement that raises
ends its cell (FromRunner.ERROR), except an import of a package not installed here, or a
statement that fails for want of one (or of what it would have bound): the rest of the cell
runs on, as it would where the package is.

Part of the program that runs student code; standard library only.
"""

from __future__ import annotations
import __future__

import ast
import types
from collections.abc import Callable
from typing import Any

from .protocol import STATEMENT, FromRunner
from .standins import MissingPackageError, bind_missing

# Called before each top-level statement of the student's cells, to tell the worker which runs.
MARKER = "__grader_statement__"


def _future_flags() -> int:
    flags = 0
    for name in __future__.all_feature_names:
        flags |= getattr(__future__, name).compiler_flag
    return flags


_FUTURE_FLAGS = _future_flags()


class Cells:
    """The student's cells, run in `namespace`; what goes wrong is sent through `send`."""

    def __init__(self, cells: list[dict[str, str]], stop_at: dict[str, int | None], namespace: dict[str, Any],
                 send: Callable[[bytes, bytes], None], describe: Callable[[BaseException], str],
                 error_line: Callable[[Any], tuple[int | None, int | None]], note_missing: Callable[[str], None],
                 restore_builtins: Callable[[], None]) -> None:
        self.cells, self.namespace, self.send = cells, namespace, send
        self.describe, self.error_line = describe, error_line
        self.note_missing, self.restore_builtins = note_missing, restore_builtins
        self.stop_at = {int(cell): index for cell, index in stop_at.items()}
        self.running = 0  # the statement running now, in a cell run a statement at a time
        # Names a statement could not bind because it used a package not installed here (and
        # names bound from those): a statement that fails for want of one ran as far as it could.
        self.lost: set[str] = set()
        self.flags = 0  # __future__ features: a cell's apply to the cells after it, as in a notebook
        self.pack = STATEMENT.pack
        namespace[MARKER] = self.announce

    def announce(self, cell: int, index: int, line: int) -> None:
        self.running = index
        self.send(FromRunner.STATEMENT, self.pack(cell, index, line))

    def run(self) -> None:
        for index, cell in enumerate(self.cells):
            self.run_cell(index, cell)

    def compile(self, source: str | ast.Module, filename: str) -> types.CodeType:
        code = compile(source, filename, "exec", flags=self.flags, dont_inherit=True)
        self.flags |= code.co_flags & _FUTURE_FLAGS
        return code

    def run_cell(self, index: int, cell: dict[str, str]) -> None:
        """One cell: whole, or a statement at a time from where it is to start."""
        whole = index not in self.stop_at
        if whole:
            self.send(FromRunner.CELL, self.pack(index, 0, 0))
        try:
            if whole:
                code = self.compile(cell["source"], cell["filename"])
            else:
                body = ast.parse(cell["source"], cell["filename"]).body[:self.stop_at[index]]
        except (SyntaxError, ValueError) as exc:
            self.send(FromRunner.ERROR, self.pack(index, 0, getattr(exc, "lineno", None) or 0) +
                      f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}".encode())
            return
        start = 0
        if whole:
            try:
                exec(code, self.namespace)
                self.restore_builtins()
                return
            except BaseException as exc:  # SystemExit too: the cell stops here
                self.restore_builtins()
                try:  # compiled already: only a limit of the syntax tree's own can stop this
                    body = ast.parse(cell["source"], cell["filename"]).body
                except Exception:  # then the statement is not known
                    body = []
                start = _statement_at(body, _module_line(exc.__traceback__, code))
                if not self.recover(index, cell["filename"], body[start] if body else None, exc):
                    return
                start += 1
        self.run_statements(index, cell["filename"], body, start)

    def run_statements(self, index: int, filename: str, body: list[ast.stmt], start: int) -> None:
        """The statements from `start` on, each announced; after one that raises, those after
        it if it was an import of a package not installed here."""
        while start < len(body):
            self.running = start
            try:
                exec(self.compile(_marked(body, start, index), filename), self.namespace)
                self.restore_builtins()
                return
            except BaseException as exc:  # SystemExit too: the cell stops here
                self.restore_builtins()
                if not self.recover(index, filename, body[self.running], exc):
                    return
                start = self.running + 1

    def recover(self, index: int, filename: str, statement: ast.stmt | None, exc: BaseException) -> bool:
        """After `statement` (None: not known) raised `exc`: True if the cell runs on after it
        (a package not installed here), else False, the error sent."""
        if isinstance(exc, ModuleNotFoundError) and statement is not None:
            def run_import(node: ast.stmt) -> None:
                exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec",
                             flags=self.flags, dont_inherit=True), self.namespace)

            try:  # a package not installed here costs only the code that uses it
                missing = bind_missing(statement, exc, self.namespace, run_import)
            except BaseException as again:  # the statement's other imports
                exc, missing = again, None
            finally:
                self.restore_builtins()
            if missing:
                for root in missing:
                    self.note_missing(root)
                return True
        if statement is not None and (isinstance(exc, MissingPackageError)
                                      or (isinstance(exc, NameError) and getattr(exc, "name", None) in self.lost)):
            # It could not run here (a package not installed, or what was to come of one): not
            # the student's error, so the rest runs, as it would where the package is.
            if isinstance(exc, MissingPackageError) and isinstance(exc.name, str):
                self.note_missing(exc.name.partition(".")[0])
            self.lost |= _bound_names(statement)
            return True
        _, line = self.error_line(exc.__traceback__)
        self.send(FromRunner.ERROR, self.pack(index, 0, line or getattr(statement, "lineno", 0)) +
                  self.describe(exc).encode("utf-8", "replace"))
        return False


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds (what it would have bound, had it run)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).partition(".")[0] for alias in statement.names}
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def _module_line(tb: types.TracebackType | None, code: types.CodeType) -> int:
    """The line of the cell's own top level that was running when the traceback was made."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code is code:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _statement_at(body: list[ast.stmt], line: int) -> int:
    """The index of the top-level statement that holds `line` (its decorators included)."""
    index = 0
    for position, statement in enumerate(body):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        if first <= line:
            index = position
    return index


def _marked(body: list[ast.stmt], start: int, cell: int) -> ast.Module:
    """The statements from `start` on, as one module, each after a call announcing it: the
    docstring and __future__ imports at the top stay first, as Python requires."""
    statements: list[ast.stmt] = []
    for index, statement in enumerate(body[start:], start=start):
        leading = index == len(statements) + start and (
            (isinstance(statement, ast.ImportFrom) and statement.module == "__future__")
            or (index == 0 and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)))
        if not leading:
            statements.append(_marker_call(cell, index, statement))
        statements.append(statement)
    return ast.Module(body=statements, type_ignores=[])


def _marker_call(cell: int, index: int, statement: ast.stmt) -> ast.Expr:
    """`MARKER(cell, index, line)`, placed at the statement's own position."""
    where: dict[str, Any] = {"lineno": statement.lineno, "col_offset": statement.col_offset,
                             "end_lineno": statement.lineno, "end_col_offset": statement.col_offset}
    arguments: list[ast.expr] = [ast.Constant(value, **where) for value in (cell, index, statement.lineno)]
    call = ast.Call(ast.Name(MARKER, ast.Load(), **where), arguments, [], **where)
    return ast.Expr(call, **where)
