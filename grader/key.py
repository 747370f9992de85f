"""The answer key an instructor hands out after the deadline, computed from the model answer
on the worksheet's own numbers: nothing here is typed in by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader import assignment


@dataclass(frozen=True)
class KeyEntry:
    question: str  # the worksheet's question
    quantity: str
    value: Any  # a shape (tuple of ints), a text, or an array


def answer_key() -> list[KeyEntry]:
    ref = assignment.load_reference()
    q11, q16 = (case.network for case in assignment.worksheet_cases())
    n, i, h, o = q11.sizes
    z2, a2, z3, yHat = ref.forward(q11.X, q11.W1, q11.W2)
    delta3 = ref.delta3(q11.y, yHat, z3)
    z2_16, a2_16, z3_16, yHat_16 = ref.forward(q16.X, q16.W1, q16.W2)
    delta3_16 = ref.delta3(q16.y, yHat_16, z3_16)
    delta2_16 = ref.delta2(delta3_16, q16.W2, z2_16)
    return [
        KeyEntry("Q1", "dimension of dJ/dW(1)", ref.dJdW1_shape(i, h, o)),
        KeyEntry("Q2", "dimension of dJ/dW(2)", ref.dJdW2_shape(i, h, o)),
        KeyEntry("Q4", "dJ/dyHat (Q11's example)", ref.dJdyHat(q11.y, yHat)),
        KeyEntry("Q7", "dimension of delta(3), one example", ref.delta3_shape(n, o)),
        KeyEntry("Q11", "z(2)", z2),
        KeyEntry("Q11", "a(2)", a2),
        KeyEntry("Q11", "z(3)", z3),
        KeyEntry("Q11", "yHat", yHat),
        KeyEntry("Q11", "J (one example)", ref.cost(q11.y, yHat)),
        KeyEntry("Q11", "delta(3)", delta3),
        KeyEntry("Q11", "dJ/dW(2)", ref.dJdW2(a2, delta3)),
        KeyEntry("Q12", "rows of a(2)", ref.A2_ROWS),
        KeyEntry("Q12", "columns of a(2)", ref.A2_COLUMNS),
        KeyEntry("Q13", "dimension of delta(3), three examples", ref.delta3_shape(q16.sizes[0], o)),
        KeyEntry("Q16", "J (three examples)", ref.cost(q16.y, yHat_16)),
        KeyEntry("Q16", "dJ/dW(2)", ref.dJdW2(a2_16, delta3_16)),
        KeyEntry("Q17", "delta(2) (Q16's data)", delta2_16),
        KeyEntry("Q17", "dJ/dW(1) (Q16's data)", ref.dJdW1(q16.X, delta2_16)),
    ]


def six_digits(value: Any) -> Any:
    """Numbers to 6 significant digits; shapes and texts as they are."""
    if isinstance(value, np.ndarray):
        return [six_digits(v) for v in value.tolist()] if value.ndim else six_digits(value.item())
    if isinstance(value, list):
        return [six_digits(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def render_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    if isinstance(value, str):
        return value
    return np.array2string(np.asarray(value), formatter={"float_kind": lambda x: f"{x:.6g}"},
                           separator=", ")


def to_table(entries: list[KeyEntry]) -> str:
    from tabulate import tabulate

    rows = [(e.question, e.quantity, render_value(e.value)) for e in entries]
    return tabulate(rows, headers=("worksheet", "quantity", "answer"), disable_numparse=True)


def to_json_document(entries: list[KeyEntry]) -> dict:
    def item(entry: KeyEntry) -> dict:
        value = entry.value
        shape = list(np.shape(value)) if isinstance(value, np.ndarray) else None
        plain = list(value) if isinstance(value, tuple) else six_digits(value)
        return {"question": entry.question, "quantity": entry.quantity, "value": plain,
                "shape": shape}

    return {"assignment": assignment.ASSIGNMENT, "key": [item(e) for e in entries]}
