"""One-change variants (mutants) of a model answer's source, made with Python's `ast`.

Each variant changes one expression in the body of one graded function, as a student's slip
would: a transpose dropped or added, the operands of an operation swapped, a matrix product
made elementwise and back, a sum made a mean, an axis changed or keepdims toggled, a sign
flipped, a numeric constant changed, a name swapped for a sibling (another parameter of the
function, or a variable it set on an earlier line), one of the file's functions called in
place of another that takes as many arguments.

The change is spliced into the source text where the expression stood, so the rest of the file
keeps its lines and spelling and the variant's line reads as the student's would; a splice is
kept only if the variant parses to exactly the tree the change was made on. Pure: reads a
source text, gives texts; imports nothing of the grader.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

# The operators, by the name a report gives them.
TRANSPOSE_DROPPED = "transpose dropped"
TRANSPOSE_ADDED = "transpose added"
SWAPPED = "operands swapped"
ELEMENTWISE = "matrix product made elementwise"
MATRIX = "elementwise product made a matrix product"
SUM_MEAN = "sum made a mean"
MEAN_SUM = "mean made a sum"
AXIS = "axis changed"
KEEPDIMS = "keepdims toggled"
SIGN = "sign flipped"
CONSTANT = "constant changed"
SIBLING = "name swapped for a sibling"
HELPER = "another function called"
OPERATORS = (TRANSPOSE_DROPPED, TRANSPOSE_ADDED, SWAPPED, ELEMENTWISE, MATRIX, SUM_MEAN, MEAN_SUM, AXIS,
             KEEPDIMS, SIGN, CONSTANT, SIBLING, HELPER)

# numpy's matrix products, and the reductions an axis (and keepdims) belongs to.
_PRODUCTS = {"dot", "matmul"}
_REDUCTIONS = {"sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "average", "nansum",
               "nanmean"}
_SUM_MEAN = {"sum": "mean", "nansum": "nanmean", "mean": "sum", "nanmean": "nansum"}
# A change: the changed expression made from (a copy of) the original one.
Make = Callable[[Any], ast.AST]


@dataclass(frozen=True)
class Mutant:
    """One variant of the model answer: the graded function changed, how, and where."""

    function: str
    operator: str
    line: int  # the first line of the changed expression, counted from 1 in the file
    before: str  # those lines as the model answer writes them
    after: str  # the variant's line
    source: str  # the whole file, changed

    @property
    def change(self) -> str:
        return f"line {self.line}: `{self.before}` → `{self.after}`"


@dataclass(frozen=True)
class _Site:
    """Where a change is made (found again in a fresh tree by position) and how."""

    position: tuple[str, int, int, int | None, int | None]
    operator: str
    make: Make  # the changed expression, from the original one


def _position(node: ast.AST) -> tuple[str, int, int, int | None, int | None]:
    return (type(node).__name__, node.lineno, node.col_offset,  # type: ignore[attr-defined]
            getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))


def _name(node: ast.AST) -> str | None:
    """`np.sum` -> "sum", `sum` -> "sum", `x.sum` -> "sum"; None for anything else called."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _numpy_call(node: ast.AST, names: set[str]) -> bool:
    """A call of numpy's function of one of these names (np.dot, numpy.sum, np.linalg.norm)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
            and isinstance(node.func.value, (ast.Name, ast.Attribute)))


def _reduction(node: ast.AST) -> bool:
    """np.sum(...), x.sum(...) and the like: what an axis belongs to."""
    return isinstance(node, ast.Call) and _name(node.func) in _REDUCTIONS and isinstance(node.func, ast.Attribute)


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _numbers(value: int | float) -> list[int | float]:
    """What a numeric constant is changed to: an int by one either way (not below 0), a float
    doubled or halved (0.5 -> 1.0 and 0.25; 0.0 -> 1.0)."""
    if isinstance(value, int):
        return [n for n in (value - 1, value + 1) if n >= 0 and n != value]
    if value == 0:
        return [1.0]
    return [value * 2, value / 2]


class _Finder(ast.NodeVisitor):
    """The change sites of one function's body."""

    def __init__(self, function: ast.FunctionDef, functions: dict[str, ast.FunctionDef],
                 kinds: dict[str, Hashable]) -> None:
        self.function = function
        self.functions = functions  # the file's top-level functions, by name
        self.kinds = kinds  # what each of its names holds when it runs (see `mutants`), where known
        self.parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        self.bound = self._bound(function)  # name -> the first line it is set on
        self.sites: list[_Site] = []
        self.parents: dict[ast.AST, ast.AST] = {}

    @staticmethod
    def _bound(function: ast.FunctionDef) -> dict[str, int]:
        bound: dict[str, int] = {}
        for node in ast.walk(function):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                        bound[name.id] = min(bound.get(name.id, name.lineno), name.lineno)
        return bound

    def find(self) -> list[_Site]:
        for statement in self.function.body:
            if _docstring(statement):
                continue
            for node in ast.walk(statement):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
            self.visit(statement)
        return self.sites

    def add(self, node: ast.AST, operator: str, make: Make) -> None:
        self.sites.append(_Site(_position(node), operator, make))

    def variables(self) -> set[str]:
        return set(self.parameters) | set(self.bound)

    def visit_Return(self, node: ast.Return) -> None:
        returned = node.value
        if returned is not None:
            parts = returned.elts if isinstance(returned, ast.Tuple) else [returned]
            for part in parts:
                if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
                    continue  # its sign is flipped by dropping the minus
                if isinstance(part, ast.Constant) or (isinstance(part, ast.Name) and part.id not in self.variables()):
                    continue
                self.add(part, SIGN, _negated)
                if not isinstance(part, ast.Name) and not (isinstance(part, ast.Attribute) and part.attr == "T"):
                    self.add(part, TRANSPOSE_ADDED, _transposed)  # a name gets its own (visit_Name)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "T" and isinstance(node.ctx, ast.Load):
            self.add(node, TRANSPOSE_DROPPED, _untransposed)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load) or node.id not in self.variables():
            return
        parent = self.parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            return
        kind = self.kinds.get(node.id)
        matrix = kind is None or (isinstance(kind, tuple) and kind[0] == "array" and kind[1] >= 2)
        if not isinstance(parent, ast.Attribute) and matrix:
            self.add(node, TRANSPOSE_ADDED, _transposed)
        for sibling in sorted(self.variables() - {node.id}, key=self._order):
            alike = kind is None or self.kinds.get(sibling) in (None, kind)
            if alike and (sibling in self.parameters or self.bound[sibling] < node.lineno):
                self.add(node, SIBLING, partial(_named, sibling))

    def _order(self, name: str) -> tuple[int, str]:
        return (self.parameters.index(name) if name in self.parameters else len(self.parameters)
                + self.bound[name], name)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.add(node, SWAPPED, _operands_swapped)
        if isinstance(node.op, ast.MatMult):
            self.add(node, ELEMENTWISE, partial(_with_operator, ast.Mult))
        numbers = isinstance(node.left, ast.Constant) or isinstance(node.right, ast.Constant)
        if isinstance(node.op, ast.Mult) and not numbers:
            self.add(node, MATRIX, partial(_with_operator, ast.MatMult))
        if isinstance(node.op, (ast.Sub, ast.Add)):
            self.add(node, SIGN, partial(_with_operator, ast.Add if isinstance(node.op, ast.Sub) else ast.Sub))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.USub):
            self.add(node, SIGN, _operand)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for number in _numbers(value):
                self.add(node, CONSTANT, partial(_constant, number))

    def visit_Tuple(self, node: ast.Tuple) -> None:
        if isinstance(node.ctx, ast.Load):
            for index in range(len(node.elts) - 1):
                self.add(node, SWAPPED, partial(_swapped, "elts", index))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._call_changes(node)
        self.generic_visit(node)

    def _call_changes(self, node: ast.Call) -> None:
        called = _name(node.func)
        if not any(isinstance(a, ast.Starred) for a in node.args):
            for index in range(len(node.args) - 1):
                self.add(node, SWAPPED, partial(_swapped, "args", index))
        if _numpy_call(node, _PRODUCTS) and len(node.args) == 2 and not node.keywords:
            self.add(node, ELEMENTWISE, _elementwise_call)
        if _numpy_call(node, {"multiply"}) and len(node.args) == 2:
            self.add(node, MATRIX, partial(_renamed, "dot"))
        if _reduction(node) and called in _SUM_MEAN:
            self.add(node, SUM_MEAN if called in ("sum", "nansum") else MEAN_SUM, partial(_renamed, _SUM_MEAN[called]))
        if _reduction(node) or _numpy_call(node, {"norm"}):
            self._axis_changes(node)
        if isinstance(node.func, ast.Name) and called in self.functions and called != self.function.name:
            for other in self._compatible(node):
                self.add(node, HELPER, partial(_called, other))

    def _axis_changes(self, node: ast.Call) -> None:
        axis = _keyword(node, "axis")
        now = axis.value.value if axis is not None and isinstance(axis.value, ast.Constant) else None
        if axis is None or isinstance(axis.value, ast.Constant):
            for value in (0, 1, None):
                if value != now:
                    self.add(node, AXIS, partial(_with_keyword, "axis", value))
        keepdims = _keyword(node, "keepdims")
        if keepdims is not None and isinstance(keepdims.value, ast.Constant):
            self.add(node, KEEPDIMS, partial(_with_keyword, "keepdims", not keepdims.value.value))
        elif keepdims is None and axis is not None:
            self.add(node, KEEPDIMS, partial(_with_keyword, "keepdims", True))

    def _compatible(self, call: ast.Call) -> list[str]:
        """The file's other functions that take this call's arguments (as many, by position)."""
        found = []
        for name, function in self.functions.items():
            if name in (self.function.name, _name(call.func)) or call.keywords:
                continue
            arguments = function.args
            positional = len(arguments.posonlyargs) + len(arguments.args)
            required = positional - len(arguments.defaults)
            if required <= len(call.args) <= positional or (arguments.vararg and required <= len(call.args)):
                found.append(name)
        return found


def _negated(node: ast.expr) -> ast.AST:
    return ast.UnaryOp(ast.USub(), node)


def _transposed(node: ast.expr) -> ast.AST:
    return ast.Attribute(node, "T", ast.Load())


def _untransposed(node: ast.Attribute) -> ast.AST:
    return node.value


def _operand(node: ast.UnaryOp) -> ast.AST:
    return node.operand


def _named(name: str, _node: ast.Name) -> ast.AST:
    return ast.Name(name, ast.Load())


def _constant(value: int | float, _node: ast.Constant) -> ast.AST:
    return ast.Constant(value)


def _operands_swapped(node: ast.BinOp) -> ast.AST:
    return ast.BinOp(node.right, node.op, node.left)


def _with_operator(operator: type[ast.operator], node: ast.BinOp) -> ast.AST:
    return ast.BinOp(node.left, operator(), node.right)


def _elementwise_call(node: ast.Call) -> ast.AST:
    """np.dot(a, b) as a * b."""
    return ast.BinOp(node.args[0], ast.Mult(), node.args[1])


def _swapped(items: str, index: int, node: ast.AST) -> ast.AST:
    """The node with its `items` (a tuple's elements, a call's arguments) index and index + 1 swapped."""
    changed = copy.deepcopy(node)
    listed = getattr(changed, items)
    listed[index], listed[index + 1] = listed[index + 1], listed[index]
    return changed


def _renamed(name: str, node: ast.Call) -> ast.AST:
    """np.sum(...) as np.mean(...), x.sum() as x.mean()."""
    changed = copy.deepcopy(node)
    assert isinstance(changed.func, ast.Attribute)
    changed.func.attr = name
    return changed


def _called(name: str, node: ast.Call) -> ast.AST:
    changed = copy.deepcopy(node)
    changed.func = ast.Name(name, ast.Load())
    return changed


def _with_keyword(name: str, value: int | bool | None, call: ast.Call) -> ast.AST:
    """The call with keyword `name` set to `value` (removed for None)."""
    changed = copy.deepcopy(call)
    changed.keywords = [k for k in changed.keywords if k.arg != name]
    if value is not None:
        changed.keywords.append(ast.keyword(arg=name, value=ast.Constant(value)))
    return changed


def kind_of(value: object) -> Hashable:
    """What a value is, as far as swapping one name for another goes: an array and its number of
    dimensions, an int, a float, a sequence and its length, else its type's name."""
    if hasattr(value, "ndim") and hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
        return ("array", int(getattr(value, "ndim", 0)))
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return "int"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return "float"
    if isinstance(value, (tuple, list)):
        return ("sequence", len(value))
    return type(value).__name__


def _docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _locate(tree: ast.AST, position: tuple) -> ast.AST | None:
    return next((node for node in ast.walk(tree) if hasattr(node, "lineno") and _position(node) == position), None)


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().generic_visit(node)


def _offset(lines: list[str], line: int, column: int) -> int:
    """A (line, UTF-8 byte column) position as an index into the text."""
    before = sum(len(text) for text in lines[:line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:column].decode("utf-8"))


def _splice(source: str, node: ast.AST, text: str) -> str:
    lines = source.splitlines(keepends=True)
    start = _offset(lines, node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = _offset(lines, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return source[:start] + text + source[end:]


def _outline(tree: ast.Module) -> list[str]:
    return [type(statement).__name__ + getattr(statement, "name", "") for statement in tree.body]


def _variant(source: str, outline: list[str], function: ast.FunctionDef, site: _Site) -> tuple[Mutant, str] | None:
    """The variant of `source` with `site`'s change, and the changed function's tree (dumped),
    or None where no splice gives it: the file must parse to the same statements, and the
    function to exactly the tree the change was made on (so the splice is the change, whatever
    brackets it needed)."""
    changing = copy.deepcopy(function)
    node = _locate(changing, site.position)
    if node is None:
        return None
    changed = site.make(copy.deepcopy(node))
    text = ast.unparse(changed)
    wanted = ast.dump(_Replace(node, changed).visit(changing))
    for spelled in (text, f"({text})"):
        variant = _splice(source, node, spelled)
        try:
            parsed = ast.parse(variant)
        except SyntaxError:
            continue
        mine = _functions(parsed).get(function.name)
        if mine is not None and _outline(parsed) == outline and ast.dump(mine) == wanted:
            line = site.position[1]
            last = site.position[3] or line
            before = " ".join(part.strip() for part in source.splitlines()[line - 1:last])
            after = variant.splitlines()[line - 1].strip()
            return Mutant(function.name, site.operator, line, before, after, variant), wanted
    return None


def mutants(source: str, functions: tuple[str, ...],
            kinds: dict[str, dict[str, Hashable]] | None = None) -> Iterator[Mutant]:
    """Every one-change variant of the top-level functions named in `functions`, in the file's
    order, each distinct (two changes that give the same function are one variant).

    `kinds`, by function, says what each name of it holds when it runs (`kind_of` its value):
    where it is known, a name is swapped only for a sibling of the same kind (an array for an
    array of as many dimensions, an int for an int: the slips students make; a size for a
    matrix fails on every case and says nothing of the cases), and a transpose is added only to
    a matrix."""
    tree = ast.parse(source)
    defined, outline = _functions(tree), _outline(tree)
    for name in functions:
        function = defined.get(name)
        if function is None:
            continue
        seen = {ast.dump(function)}
        for site in _Finder(function, defined, (kinds or {}).get(name, {})).find():
            made = _variant(source, outline, function, site)
            if made is not None and made[1] not in seen:
                seen.add(made[1])
                yield made[0]
