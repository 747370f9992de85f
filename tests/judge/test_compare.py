"""Comparison messages: shapes first, then how many entries, the worst, the errors."""

import numpy as np

from conftest import BACKPROP, TINY
from grader.judge import compare
from grader.sandbox import Unsupported


def test_equal_within_tolerance_is_right():
    expected = np.array([[0.0101512], [0.0101512]])
    assert compare.compare_array(expected * (1 + 1e-7), expected) is None


def test_shape_mismatch_names_both_shapes_and_nothing_else():
    message = compare.compare_array(np.ones((1, 3)), np.ones((3, 1)))
    assert message == "shape (1, 3), but the answer has shape (3, 1)"


def test_value_mismatch_counts_entries_and_shows_the_worst_with_both_values():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = expected.copy()
    got[1, 0] = 3.5
    got[0, 1] = 2.1
    message = compare.compare_array(got, expected)
    assert message.startswith("2 of 4 entries differ (rtol 1e-05, atol 4e-05)")  # atol: rtol x 4, the scale
    assert "worst [1, 0]: got 3.5, expected 3" in message
    assert "max abs error 0.5, max rel error 0.166667" in message


def test_nan_is_wrong_and_the_worst_entry():
    message = compare.compare_array(np.array([1.0, np.nan]), np.array([1.5, 2.0]))
    assert "2 of 2 entries differ" in message and "worst [1]: got nan" in message


def test_relative_error_is_against_the_reference_and_infinite_at_zero():
    rel = compare.relative_error(np.array([2.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    assert list(rel) == [1.0, np.inf, 0.0]


def test_unreadable_answers_are_described():
    assert "None (is a `return` missing?)" in compare.compare_array(None, np.ones(2))
    assert "a dict" in compare.compare_array(Unsupported("dict"), np.ones(2))
    assert "cannot read" in compare.compare_array([[1, 2], [3]], np.ones(2))


def test_shapes_accept_tuples_lists_and_integral_arrays_but_not_floats_or_bools():
    assert compare.compare_shape([2, 3], (2, 3)) is None
    assert compare.compare_shape(np.array([2.0, 3.0]), (2, 3)) is None
    assert "tuple of ints" in compare.compare_shape([2.5, 3], (2, 3))
    assert "tuple of ints" in compare.compare_shape([True, 3], (1, 3))
    assert compare.compare_shape([3, 2], (2, 3)) == (
        "returned (3, 2), which is not the dimension asked for")


def test_tuple_answers_name_the_wrong_part():
    split = TINY.question("split")  # returns (positive, negative)
    expected = [np.array([3.0, 0.0, 12.0]), np.array([0.0, -4.0, 0.0])]
    got = [np.array([3.0, 0.0, 12.0]), np.zeros(3)]
    assert compare.compare(split, got, expected).startswith("negative: 1 of 3 entries differ")
    assert "expected a tuple of 2 (positive, negative)" in compare.compare(split, got[:1], expected)


def test_cost_accepts_a_plain_number_for_one_output_and_the_series_vector_form():
    cost = BACKPROP.question("cost")  # the worksheet's J, which the series' code gives as a vector

    assert compare.compare(cost, 0.25, np.array([[0.25]])) is None
    assert compare.compare(cost, np.array([0.25, 0.5]), np.array([[0.25, 0.5]])) is None
    assert "shape (2, 1)" in compare.compare(cost, np.array([[0.25], [0.5]]), np.array([[0.25, 0.5]]))


def test_what_the_comparison_cant_tell_apart_reads_alike():
    """`as_read`, what a diagnosis compares in the grader and in the self-check file: J however
    it came, a dimension as ints, a choice by any spelling."""
    cost = BACKPROP.question("cost")
    expected = np.array([[0.5, 0.25]])
    read = [compare.as_read(cost, value, expected) for value in
            (np.array([0.5, 0.25]), [[0.5, 0.25]], np.array([[0.5, 0.25]]))]
    assert all(r.shape == (1, 2) and (r == expected).all() for r in read)
    # One number, however wrapped, is that number (a cost summed over the outputs too).
    assert [compare.as_read(cost, value, expected).shape for value in (0.75, [[0.75]], np.array([0.75]))] == [()] * 3
    assert compare.as_read(cost, None, expected) is None and compare.as_read(cost, "J", expected) == "J"
    assert compare.as_read(BACKPROP.question("dJdW1_shape"), np.array([2, 3]), (2, 3)) == [2, 3]
    rows = BACKPROP.question("a2_rows_and_columns")
    assert compare.as_read(rows, ["Example ", "hidden unit"], ["examples", "hidden units"]) == ["examples", "hidden units"]
    parts = compare.as_read(BACKPROP.question("cost_function_prime"), [[[1.0]], np.ones((1, 1))], (np.ones((1, 1)),) * 2)
    assert all(isinstance(part, np.ndarray) and part.shape == (1, 1) for part in parts)
    assert compare.same_reading(cost, read[0], read[1] * (1 + 1e-9))
    assert not compare.same_reading(cost, read[0], np.array([0.5, 0.25]))  # a reading's shape is its own
