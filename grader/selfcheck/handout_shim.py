"""What grader/judge/compare.py takes from the rest of the grader, as the self-check file has
it: `handout.build` copies compare's source there without its imports of the grader, and this
file's classes before it (the kinds by their values, which the file's data names)."""

import enum
from collections.abc import Callable
from typing import Any


class Kind(enum.Enum):
    ARRAY = "array"
    SHAPE = "shape"
    ARRAYS = "arrays"
    CHOICES = "choices"


class Unsupported:
    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


class Question:
    def __init__(self, kind: Kind, parts: tuple[str, ...], constants: tuple[str, ...],
                 normalise: Callable[[Any, Any], Any] | None, rtol: float, atol: float,
                 choices: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self.kind, self.parts, self.constants, self.normalise = kind, parts, constants, normalise
        self.rtol, self.atol, self.choices = rtol, atol, choices
