"""Self-check lines in a hand-in, set aside like IPython syntax: not run, not flagged, listed.

Students are told to check their work as they go (`from backprop_check import check`, then
`check("Q6")` after a question; or `from grader import check` where the grader is installed).
A notebook handed in with those cells must not be graded on them: importing the grader is
what a hunt for the model answer does (the sandbox flags it), and `backprop_check.py` is not
beside the hand-in when it is graded. So these statements, at the top level of a cell, are
replaced by `pass` (the original kept as a comment, line numbers unchanged):

- `from grader import check` (check and nothing else), `from backprop_check import ...`,
  `import backprop_check`, `check = backprop_check.check`;
- a call of a check so imported (or of `check` when the hand-in defines no `check` of its own),
  alone, assigned, or printed/displayed: `check()`, `card = check("Q6")`, `display(check())`,
  `backprop_check.check("dJdW2")`.

Anything else that imports the grader is still run, and flagged.
"""

from __future__ import annotations

import ast

_WRAPPERS = {"print", "display"}
# Where the grader's own check() may be imported from.
_GRADER_MODULES = ("grader", "grader.selfcheck", "grader.selfcheck.notebook")


def _imports(tree: ast.Module, known: set[str], names: tuple[str, ...]) -> tuple[list[ast.stmt], set[str], set[str]]:
    """The self-check import statements, the check functions they bind, the modules they bind
    (`known`: those bound by earlier cells; `names`: the self-check modules' names)."""
    statements: list[ast.stmt] = []
    functions: set[str] = set()
    modules = set(known)
    for node in tree.body:
        bound = _self_check_import(node, modules, names)
        if bound is not None:
            statements.append(node)
            functions |= bound[0]
            modules |= bound[1]
    return statements, functions, modules


def _self_check_import(node: ast.stmt, modules: set[str], names: tuple[str, ...]) -> tuple[set[str], set[str]] | None:
    """(the check functions, the self-check modules) a top-level statement binds, if it is a
    self-check import (`modules`: those bound so far); else None."""
    if isinstance(node, ast.ImportFrom):
        return _check_imported(node, names)
    if isinstance(node, ast.Import) and all(alias.name in names for alias in node.names):
        return set(), {alias.asname or alias.name for alias in node.names}  # import backprop_check
    if isinstance(node, ast.Assign):
        return _check_assigned(node, modules)
    return None


def _check_imported(node: ast.ImportFrom, names: tuple[str, ...]) -> tuple[set[str], set[str]] | None:
    """`from grader import check` (check and nothing else), `from backprop_check import ...`."""
    if node.level != 0:
        return None
    grader_check = node.module in _GRADER_MODULES and all(alias.name == "check" for alias in node.names)
    if not (grader_check or node.module in names):
        return None
    return {alias.asname or alias.name for alias in node.names if alias.name == "check"}, set()


def _check_assigned(node: ast.Assign, modules: set[str]) -> tuple[set[str], set[str]] | None:
    """`check = backprop_check.check`, the module imported before."""
    value = node.value
    if not (isinstance(value, ast.Attribute) and value.attr == "check" and isinstance(value.value, ast.Name)
            and value.value.id in modules):
        return None
    targets = [target.id for target in node.targets if isinstance(target, ast.Name)]
    return (set(targets), set()) if len(targets) == len(node.targets) else None


def _defines_check(tree: ast.Module, self_checks: list[ast.stmt], names: tuple[str, ...]) -> bool:
    """Whether the hand-in binds the name `check` itself (then its calls are its own)."""
    skipped = {id(n) for statement in self_checks for n in ast.walk(statement)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "check":
            return True
        if isinstance(node, ast.Name) and node.id == "check" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (a.asname or a.name.split(".")[0]) == "check" for a in node.names) \
                and not (isinstance(node, ast.ImportFrom) and node.module in (*_GRADER_MODULES, *names)):
            return True
    return False


def _is_check_call(node: ast.AST, functions: set[str], modules: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        if func.id in functions:
            return True
        return func.id in _WRAPPERS and len(node.args) == 1 and _is_check_call(node.args[0], functions, modules)
    return (isinstance(func, ast.Attribute) and func.attr == "check" and isinstance(func.value, ast.Name)
            and func.value.id in modules)


def _calls(tree: ast.Module, functions: set[str], modules: set[str]) -> list[ast.stmt]:
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
        if value is not None and _is_check_call(value, functions, modules):
            found.append(node)
    return found


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def check_names(sources: list[str], names: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """The check functions and self-check modules a hand-in's cells bind, across all cells (the
    import is in one cell, the calls in others). `names`: the self-check modules' names."""
    functions: set[str] = set()
    modules: set[str] = set()
    defines = False
    for source in sources:
        if "check" not in source:
            continue
        tree = _parse(source)
        if tree is None:
            continue
        statements, more_functions, more_modules = _imports(tree, modules, names)
        functions |= more_functions
        modules |= more_modules
        defines = defines or _defines_check(tree, statements, names)
    if not defines:
        functions.add("check")  # a call of an undefined check() is a self-check left in
    return functions, modules


def set_aside(source: str, functions: set[str], modules: set[str],
              names: tuple[str, ...]) -> tuple[str, list[tuple[int, str]]]:
    """The source with its self-check statements replaced by `pass`, and (line, text) of each."""
    if "check" not in source:
        return source, []
    tree = _parse(source)
    if tree is None:
        return source, []
    imports, _, _ = _imports(tree, modules, names)
    chosen = sorted(imports + _calls(tree, functions, modules), key=lambda n: n.lineno)
    if not chosen:
        return source, []
    lines = source.split("\n")
    chosen_ids = {id(n) for n in chosen}
    removed, done = [], set()
    for node in chosen:
        first, last = node.lineno, node.end_lineno or node.lineno
        # A statement is replaced whole, so it must share its lines with no statement that
        # stays (`x = 1; check()` is left as it is); top-level, so it starts in column 0.
        if first in done or any(id(other) not in chosen_ids and other.lineno <= last
                                and (other.end_lineno or other.lineno) >= first for other in tree.body):
            continue
        removed.append((first, lines[first - 1].strip()))
        for line in range(first, last + 1):
            original = lines[line - 1]
            lines[line - 1] = (f"pass  # self-check, not run by the grader: {original.strip()}"
                               if line == first else f"# {original}")
            done.add(line)
    return "\n".join(lines), removed
