"""Pure comparison of a student's answer with the reference: structure first, then numbers.

Every function returns None when the answer is right and otherwise one sentence a student can
act on. Relative error is defined once (against the reference) and the same definition serves
the verdict's tolerance and the message, in one number format.

An entry matches when |got - expected| <= atol + rtol |expected|, where atol is at least rtol
times the array's scale (its largest finite magnitude), as `assert_allclose` users set atol
from the data: an entry near zero is judged against the size of its neighbours, not against
1e-8. An answer computed in float32 gets float32's share of rounding (rtol 1e-4). A value that
is not finite matches only itself: inf with inf of the same sign, NaN never.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.assignment import Kind, Question
from grader.results import Unsupported

# The tolerances when a caller gives none; a question carries its assignment's own.
RTOL, ATOL = 1e-5, 1e-8
# The relative tolerance for an answer computed in float32 (float16 is as good as wrong).
RTOL_FLOAT32 = 1e-4


def fmt(x: float) -> str:
    """The one number format of every message."""
    return f"{x:.6g}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


EXCERPT = 40  # characters of a text, or bytes, quoted in a message


def describe(value: Any) -> str:
    """A short description of what the student returned, for messages: bounded whatever the
    value (an excerpt of a long text says how much was cut)."""
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {fmt_shape(value.shape)}"
    if isinstance(value, list):
        return f"a sequence of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, (str, bytes)):
        what, unit = ("the text", "characters") if isinstance(value, str) else ("the bytes", "bytes")
        cut = f" (the first {EXCERPT} of its {len(value):,} {unit})" if len(value) > EXCERPT else ""
        return f"{what} {value[:EXCERPT]!r}{cut}"
    return repr(value)  # a number or a truth value: short


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """|got - expected| / |expected|, infinite where expected is 0 and got is not."""
    error = np.abs(got - expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = error / np.abs(expected)
    return np.where(error == 0, 0.0, relative)


def as_array(value: Any) -> np.ndarray | None:
    """The answer as a float array, or None when numpy can't read it as numbers."""
    if value is None or isinstance(value, (str, Unsupported, bool)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (ValueError, TypeError):
        return None
    return array


def tolerances(expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> tuple[float, float]:
    """(rtol, atol) for an answer: atol from the array's scale, never below the given atol."""
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else expected
    scale = float(finite.max()) if finite.size else 0.0
    return rtol, max(atol, rtol * scale)


def wrong_entries(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL,
                  atol: float = ATOL) -> np.ndarray:
    """A boolean array: which entries are not within tolerance (shapes already equal)."""
    rtol, atol = tolerances(expected, rtol, atol)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(got - expected) <= atol + rtol * np.abs(expected)
    # Where the answer is not finite, only the same value matches (inf - inf is NaN, and
    # |x - inf| <= inf would accept anything).
    close = np.where(np.isfinite(expected) & np.isfinite(got), close, got == expected)
    return ~close


def normalised(normalise: Callable[[Any, Any], Any], got: Any, expected: Any) -> tuple[Any, Any]:
    """The answer in the form it is compared in, with the expected value: a normaliser gives
    back the answer, or (answer, expected) where it reads the answer as another accepted form
    (one number for the total of a row)."""
    result = normalise(got, expected)
    return result if isinstance(result, tuple) else (result, expected)


def compare_array(value: Any, expected: np.ndarray,
                  normalise: Callable[[Any, Any], Any] | None = None, *,
                  rtol: float = RTOL, atol: float = ATOL, reveal: bool = True) -> str | None:
    """Shape must match exactly, then every entry within tolerance of the reference. With
    `reveal` False the message gives no expected value, nor the expected shape."""
    got = as_array(value)
    if got is None:
        return f"returned {describe(value)}, which numpy cannot read as an array of numbers"
    if normalise is not None:
        got, expected = normalised(normalise, got, expected)
    if got.shape != expected.shape:
        if not reveal:
            return f"shape {fmt_shape(got.shape)}, which is not the shape of the answer"
        return (f"shape {fmt_shape(got.shape)}, but the answer has shape "
                f"{fmt_shape(expected.shape)}")
    wrong = wrong_entries(got, expected, rtol, atol)
    if not wrong.any():
        return None
    if not reveal:
        # The first wrong entry, not the worst: which entry is furthest off compares the
        # expected values with each other, and answers chosen to move it would find them.
        first = np.unravel_index(int(np.argmax(wrong)), got.shape)
        where = f"first {_where(first)}" if got.ndim else "the value"
        return f"{int(wrong.sum())} of {wrong.size} entries differ; {where}: got {fmt(got[first])}"
    rtol, atol = tolerances(expected, rtol, atol)
    with np.errstate(invalid="ignore", over="ignore"):
        absolute = np.abs(got - expected)
    relative = relative_error(got, expected)
    # NaN and inf are the worst possible entries: rank them first.
    ranking = np.where(np.isfinite(absolute), absolute, np.inf)
    worst = np.unravel_index(int(np.argmax(np.where(wrong, ranking, -1.0))), got.shape)
    where = _where(worst)
    return (f"{int(wrong.sum())} of {wrong.size} entries differ (rtol {rtol:g}, atol {atol:.3g}); "
            f"worst {where}: got {fmt(got[worst])}, expected {fmt(expected[worst])}; "
            f"max abs error {fmt(np.max(np.where(wrong, absolute, 0)))}, "
            f"max rel error {fmt(np.max(np.where(wrong, relative, 0)))}")


def _where(index: tuple[int | np.integer, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else "value"


def error_size(question: Question, value: Any, expected: Any) -> float:
    """How far a wrong answer is from the right one, relative to the answer's scale: a few
    times rtol is rounding; inf for a wrong structure or shape."""
    if question.kind is Kind.ARRAY:
        pairs = [(value, expected)]
    elif question.kind is Kind.ARRAYS and isinstance(value, list) and len(value) == len(question.parts):
        pairs = list(zip(value, expected))  # noqa: B905 - copied into the self-check file, which may run before Python 3.10
    else:
        return float("inf")
    worst = 0.0
    for got, want in pairs:
        got, want = as_array(got), np.asarray(want, dtype=float)
        if got is not None and question.normalise is not None and question.kind is Kind.ARRAY:
            got, want = normalised(question.normalise, got, want)
        if got is None or got.shape != want.shape:
            return float("inf")
        # An answer of zeros with atol 0 has no scale: its error is then absolute.
        scale = max(float(np.max(np.abs(want))) if want.size else 0.0, question.atol) or 1.0
        with np.errstate(invalid="ignore", over="ignore"):
            difference = float(np.max(np.abs(got - want))) if got.size else 0.0
        worst = max(worst, difference / scale if np.isfinite(difference) else float("inf"))
    return worst


def compare_shape(value: Any, expected: tuple[int, ...]) -> str | None:
    """A dimension is a tuple (or list) of ints; the grader never reveals the right one."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and np.all(value == np.round(value)):
        value = [int(v) for v in value]
    if not isinstance(value, list) or not all(isinstance(n, int) and not isinstance(n, bool)
                                              for n in value):
        return f"returned {describe(value)}; a dimension is a tuple of ints, such as (2, 5)"
    if tuple(value) != tuple(expected):
        return f"returned {fmt_shape(tuple(value))}, which is not the dimension asked for"
    return None


def _choice(value: Any, choices: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    """The canonical choice a student's text stands for, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return next((choice for choice, spellings in choices if text in spellings), None)


def compare_choices(question: Question, value: Any, expected: list[str]) -> str | None:
    """Each constant must be one of the choices (any case, singular or plural) and the right one."""
    listed = ", ".join(f'"{c}"' for c, _ in question.choices)
    if not isinstance(value, list) or len(value) != len(expected):
        return f"set {' and '.join(question.constants)}, each to one of {listed}"
    wrong = []
    for name, given, right in zip(question.constants, value, expected):  # noqa: B905 - copied into the self-check file, which may run before Python 3.10
        choice = _choice(given, question.choices)
        if given is None:
            return f"{name} is not set yet: set it to one of {listed}"
        if choice is None:
            return f"{name} is {describe(given)}: set it to one of {listed}"
        if choice != (_choice(right, question.choices) or right):  # the model may use a spelling too
            wrong.append(name)
    if wrong:
        return f"{' and '.join(wrong)}: not what {'they represent' if len(wrong) > 1 else 'it represents'}"
    return None


def as_read(question: Question, value: Any, expected: Any) -> Any:
    """The answer as the comparison reads it, beside the right answer `expected`: answers the
    comparison can't tell apart read alike. An array however it came (a list, ints), through
    the question's `normalise` (J as (outputs,) for (1, outputs)), one number in any shape as
    that number; each part of a tuple as an array; a dimension as a list of ints; a choice by
    any of its spellings as the choice. What is not read (None, a text where numbers are due,
    a tuple of the wrong length) stays as it is.

    A diagnosis compares readings: the grader's (`judge.diagnose`, within the tolerance, by
    `same_reading`) and the self-check file's (which copies this module: to 4 significant
    digits, the key a catalogued mistake's explanation is locked under). Both read a wrong
    answer, and the mistake's, with this one function."""
    if question.kind is Kind.ARRAY:
        got = as_array(value)
        if got is None:
            return value
        if question.normalise is not None:
            got = normalised(question.normalise, got, np.asarray(expected, dtype=float))[0]
            if isinstance(got, np.ndarray) and got.size == 1:
                got = got.reshape(())  # read as one number, as `normalise` reads one in any shape
        return got
    if question.kind is Kind.ARRAYS:
        if not isinstance(value, list) or len(value) != len(question.parts):
            return value
        return [part if as_array(part) is None else as_array(part) for part in value]
    if question.kind is Kind.SHAPE:
        if isinstance(value, np.ndarray) and value.ndim == 1 and np.all(value == np.round(value)):
            return [int(v) for v in value]
        return value
    if isinstance(value, list):  # choices
        return [_choice(given, question.choices) or given for given in value]
    return value


def same_reading(question: Question, reading: Any, other: Any) -> bool:
    """Two readings (`as_read`) the comparison can't tell apart: `agrees`, each array of the
    exact shape of the other (a reading is normalised already)."""
    if question.kind is Kind.ARRAY:
        return _agrees_array(reading, other, None, question.rtol, question.atol)
    return agrees(question, reading, other)


class Target:
    """An expected answer prepared once (a class compares thousands of answers with it): each
    array with the tolerance of each entry, for the quick yes of `right`."""

    def __init__(self, question: Question, expected: Any):
        self.question = question
        parts = [expected] if question.kind is Kind.ARRAY else \
            list(expected) if question.kind is Kind.ARRAYS else None
        self.parts = None
        if parts is not None:
            arrays = [np.asarray(part, dtype=float) for part in parts]
            if all(np.all(np.isfinite(a)) for a in arrays):
                rtol, atol = question.rtol, question.atol
                self.parts = [(a, tolerances(a, rtol, atol)[1] + rtol * np.abs(a)) for a in arrays]

    def right(self, value: Any) -> bool:
        """True when the answer is surely right (float64, the exact shapes, every entry within
        tolerance); False means "ask `compare`", which also says why."""
        if self.parts is None:
            return False
        values = [value] if self.question.kind is Kind.ARRAY else value
        if not isinstance(values, list) or len(values) != len(self.parts):
            return False
        for got, (want, tolerance) in zip(values, self.parts):  # noqa: B905 - copied into the self-check file, which may run before Python 3.10
            if not isinstance(got, np.ndarray) or got.shape != want.shape:
                return False
            if not (np.abs(got - want) <= tolerance).all():  # NaN compares False: not right
                return False
        return True


def _agrees_array(value: Any, expected: Any, normalise: Callable[[Any, Any], Any] | None, rtol: float,
                  atol: float) -> bool:
    got, want = as_array(value), np.asarray(expected, dtype=float)
    if got is None:
        return False
    if normalise is not None:
        got, want = normalised(normalise, got, want)
    if got.shape != want.shape:
        return False
    if np.isfinite(want).all():
        with np.errstate(invalid="ignore", over="ignore"):
            return bool((np.abs(got - want) <= tolerances(want, rtol, atol)[1] + rtol * np.abs(want)).all())
    return not wrong_entries(got, want, rtol, atol).any()


def _rtol(question: Question, precision: str | None) -> float:
    """The question's rtol, or float32's share of rounding if that is larger."""
    return max(question.rtol, RTOL_FLOAT32) if precision == "float32" else question.rtol


def agrees(question: Question, value: Any, expected: Any, *, precision: str | None = None) -> bool:
    """`compare(...) is None`, without the words: the same rule, at a fraction of the cost,
    for the many comparisons nobody reads (diagnoses, credit carried forward)."""
    rtol, atol = _rtol(question, precision), question.atol
    if question.kind is Kind.ARRAY:
        return _agrees_array(value, expected, question.normalise, rtol, atol)
    if question.kind is Kind.ARRAYS:
        return isinstance(value, list) and len(value) == len(question.parts) and all(
            _agrees_array(got, want, None, rtol, atol)
            for got, want in zip(value, expected))  # noqa: B905 - copied into the self-check file, which may run before Python 3.10
    return compare(question, value, expected, precision=precision) is None


def compare(question: Question, value: Any, expected: Any, *, precision: str | None = None,
            reveal: bool = True) -> str | None:
    """Compare an answer of any kind with the reference's value for the same call; `precision`
    is "float32" for an answer computed in float32."""
    rtol, atol = _rtol(question, precision), question.atol
    if question.kind is Kind.CHOICES:
        return compare_choices(question, value, expected)
    if question.kind is Kind.SHAPE:
        return compare_shape(value, tuple(expected))
    if question.kind is Kind.ARRAY:
        return compare_array(value, np.asarray(expected, dtype=float), question.normalise,
                             rtol=rtol, atol=atol, reveal=reveal)
    parts = question.parts
    if not isinstance(value, list) or len(value) != len(parts):
        return f"returned {describe(value)}; expected a tuple of {len(parts)} ({', '.join(parts)})"
    for name, got, want in zip(parts, value, expected):  # noqa: B905 - copied into the self-check file, which may run before Python 3.10
        message = compare_array(got, np.asarray(want, dtype=float), rtol=rtol, atol=atol, reveal=reveal)
        if message is not None:
            return f"{name}: {message}"
    return None
