"""Why a function the student wrote is not there when it is graded: their own top-level code
replaced it after defining it. The series computes its gradients as
`dJdW1, dJdW2 = NN.costFunctionPrime(X, y)`; in a file that defines functions named dJdW1 and
dJdW2, that line leaves two arrays under those names, and "not defined" would be untrue.

Read from the source (the grader's own parse; nothing of the run): the last top-level
statement that binds or deletes a graded name after the last `def` of it, in the order the
cells run. Top level includes the bodies of `if`, `for`, `while`, `try`, `with` and `match`
at module level, not those of functions or classes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from grader.results import printable

MAX_STATEMENT = 80  # characters of the statement quoted


@dataclass(frozen=True)
class Rebinding:
    name: str
    defined_at: str  # where the function was defined: "line 88", or "cell 2, line 5"
    replaced_at: str  # where the statement that replaced it is
    statement: str  # that statement's first line, as written (shortened)
    deleted: bool  # `del name`, not an assignment


def parse(sources: Sequence[str]) -> list[ast.Module | None]:
    """Each cell's syntax tree; None for a cell Python can't parse (it never ran)."""
    trees: list[ast.Module | None] = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append(None)
    return trees


def find(sources: Sequence[str], trees: Sequence[ast.Module | None], names: Iterable[str],
         where: Callable[[int, int], str]) -> Rebinding | None:
    """The statement that last replaced one of `names` (a question's accepted names, in order)
    after its last definition, or None; `where(cell, line)` says where a statement is."""
    wanted = tuple(names)
    defined: dict[str, tuple[int, int]] = {}
    replaced: dict[str, Rebinding] = {}
    for cell, tree in enumerate(trees):
        if tree is None:
            continue
        lines = sources[cell].splitlines()
        for statement in _top_level(tree.body):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name in wanted:
                defined[statement.name] = (cell, statement.lineno)
                replaced.pop(statement.name, None)
                continue
            deleted = isinstance(statement, ast.Delete)
            for name in _bound(statement):
                if name in wanted and name in defined:
                    text = lines[statement.lineno - 1].strip() if statement.lineno <= len(lines) else ""
                    if len(text) > MAX_STATEMENT:
                        text = text[:MAX_STATEMENT - 3] + "..."
                    replaced[name] = Rebinding(name, where(*defined[name]), where(cell, statement.lineno),
                                               printable(text), deleted)
    return next((replaced[name] for name in wanted if name in replaced), None)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run at module level, in source order, compound ones before their
    bodies."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for block in ("body", "orelse", "finalbody"):
            yield from _top_level(getattr(statement, block, []) or [])
        for handler in getattr(statement, "handlers", []) or []:
            yield handler  # `except E as name` binds name
            yield from _top_level(handler.body)
        for case in getattr(statement, "cases", []) or []:
            yield from _top_level(case.body)


def _bound(statement: ast.AST) -> Iterator[str]:
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
