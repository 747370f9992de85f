"""The answer key an instructor hands out after the deadline, computed from the model answer
on the worksheet's own numbers: nothing here is typed in by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.assignment import Assignment, KeyEntry


def answer_key(assignment: Assignment) -> list[KeyEntry]:
    """The assignment's answer key (its cases.py's own, else each question's model answer on
    each of the worksheet's cases)."""
    return assignment.answer_key()


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


def to_json_document(entries: list[KeyEntry], assignment: Assignment) -> dict[str, Any]:
    def item(entry: KeyEntry) -> dict[str, Any]:
        value = entry.value
        shape = list(np.shape(value)) if isinstance(value, np.ndarray) else None
        plain = list(value) if isinstance(value, tuple) else six_digits(value)
        return {"question": entry.question, "quantity": entry.quantity, "value": plain,
                "shape": shape}

    return {"assignment": assignment.handin, "key": [item(e) for e in entries]}
