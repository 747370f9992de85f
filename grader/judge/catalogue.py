"""The misconception catalogue: known wrong answers, kept as data in a TOML file.

An assignment's catalogue lives in its folder (`misconceptions.toml`, beside the model answer);
an instructor adds entries there or in a file of their own (`grade --catalogue FILE`). Each
entry's answer is a Python expression evaluated here, in the grader, on the same inputs as
the model answer: instructor-written, never student-written.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any

import numpy as np

from grader.assignment import Assignment, unknown_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

class CatalogueError(Exception):
    """The catalogue file is unusable; the message says which entry and why."""


@dataclass(frozen=True)
class Mistake:
    id: str
    question: str
    answer: str
    summary: str
    explain: str
    code: CodeType
    where: str = ""  # "misconceptions.toml, mistake 3": where an author's error is said to be


class Failed:
    """The entry's formula raised on these inputs (a shape mismatch, say)."""

    def __repr__(self) -> str:
        return "Failed"


FAILED = Failed()


def load(paths: tuple[Path, ...] | None, assignment: Assignment) -> tuple[Mistake, ...]:
    """Every entry of the files (None: the assignment's own catalogue), in order, validated
    against the assignment's questions."""
    paths = (assignment.catalogue_path,) if paths is None else paths
    ids = {q.id for q in assignment.questions}
    mistakes = []
    for path in paths:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CatalogueError(f"{path}: {exc}") from None
        for key in document:  # nothing in the file is ignored without a word
            if key != "mistake":
                raise CatalogueError(f"{path}: {key!r} is not read: each entry is a [[mistake]] table "
                                     f"(id, question, answer, summary, explain)")
        for number, entry in enumerate(document.get("mistake", []), start=1):
            where = f"{path.name}, mistake {number}"
            unknown = set(entry) - _FIELDS
            if unknown:  # first: a misspelt key is also why one is missing
                raise CatalogueError(f"{where} ({entry.get('id', '?')}): {unknown_key(sorted(unknown)[0], _FIELDS)}")
            missing = _FIELDS - set(entry)
            if missing:
                raise CatalogueError(f"{where}: missing {', '.join(sorted(missing))}")
            questions = entry["question"] if isinstance(entry["question"], list) else [entry["question"]]
            for question in questions:
                if question not in ids:
                    raise CatalogueError(f"{where} ({entry['id']}): no question {question!r}")
                try:
                    code = compile(entry["answer"], f"<{entry['id']}>", "eval")
                except SyntaxError as exc:
                    raise CatalogueError(f"{where} ({entry['id']}): answer is not an expression: {exc.msg}") from None
                mistakes.append(Mistake(entry["id"], question, entry["answer"], entry["summary"], entry["explain"],
                                        code, where))
    return tuple(mistakes)


_FIELDS = {"id", "question", "answer", "summary", "explain"}


class Unnamed(Failed):
    """The entry's formula uses a name no formula can (NameError): an author's mistake."""

    def __init__(self, name: str) -> None:
        self.name = name


def unusable(mistake: Mistake, answers: Sequence[Any], assignment: Assignment) -> str | None:
    """Why an entry can never match, where its formula named what it can't use on every call
    (evaluate gives Unnamed): said to the author at once, with the names it may use. None
    where it can."""
    if not answers or not all(isinstance(answer, Unnamed) for answer in answers):
        return None
    function = getattr(assignment.reference, mistake.question, None)
    names = list(inspect.signature(function).parameters) if callable(function) else []
    usable = ", ".join([*names, "expected", "np", "reference", *sorted(assignment.catalogue_names),
                        *sorted(assignment.catalogue_helpers)])
    return (f"{mistake.where} ({mistake.id}): answer uses {answers[0].name}, which a formula for "
            f"{mistake.question} can't: it may use {usable} and the model answer's functions")


@lru_cache(maxsize=8)  # the same for every formula of every call: evaluate copies it
def scope_of(assignment: Assignment) -> dict[str, Any]:
    """What every formula of the assignment's catalogue may use besides its parameters and
    `expected`: np, the model answer's public functions (a formula may call `cost`), the
    names the assignment gives them (f and fprime for the sigmoid and its derivative), the
    public functions of the assignment's mistakes.py, and `reference`, the model answer."""
    reference = assignment.reference
    scope = {name: value for name, value in vars(reference).items()
             if callable(value) and not name.startswith("_")}
    scope.update({alias: getattr(reference, name) for alias, name in assignment.catalogue_names.items()})
    scope.update(assignment.catalogue_helpers)
    scope.update(np=np, reference=reference)
    return scope


def evaluate(mistake: Mistake, assignment: Assignment, args: tuple, expected: Any) -> Any:
    """The entry's answer for one call's arguments, or FAILED."""
    function = getattr(assignment.reference, mistake.question, None)
    names = list(inspect.signature(function).parameters) if function else []
    scope = {**scope_of(assignment),
             "expected": expected, **dict(zip(names, (np.copy(a) if isinstance(a, np.ndarray) else a
                                                     for a in args), strict=False))}
    try:
        with np.errstate(all="ignore"):
            return eval(mistake.code, scope)
    except NameError as exc:
        return Unnamed(str(exc.name or exc))
    except Exception:
        return FAILED
