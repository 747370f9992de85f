"""The questions added for full worksheet coverage, and the instructor's answer key."""

import json
import re

import numpy as np
import pytest

from conftest import BACKPROP, SOLUTION, run_cli, scores, statuses, with_solution
from grader.grading import plan

ref = BACKPROP.reference  # the model answer, solutions/backprop/backprop.py


def feedback(result, question_id):
    return next(q.feedback for q in result.questions if q.question.id == question_id)


def test_every_guided_question_is_graded_somewhere():
    covered = set()
    for question in BACKPROP.questions:
        for first, last in re.findall(r"Q(\d+)(?:-Q?(\d+))?", question.worksheet):
            covered |= set(range(int(first), int(last or first) + 1))
    assert covered == set(range(1, 18))


def test_per_example_gradients_sum_to_dJdW2():
    for check in plan(0, BACKPROP):
        if check.question.id == "per_example_dJdW2":
            a2, delta3 = check.args
            assert check.expected.shape == (a2.shape[0], a2.shape[1], delta3.shape[1])
            np.testing.assert_allclose(check.expected.sum(axis=0), ref.dJdW2(a2, delta3))


def test_dJdyHat_passes_and_its_sign_is_caught(grade):
    assert statuses(grade(SOLUTION))["dJdyHat"] == "passed"
    wrong = grade(with_solution("def dJdyHat(y, yHat):\n    return y - yHat\n"))
    assert scores(wrong)["dJdyHat"] == 0
    assert feedback(wrong, "dJdyHat").startswith("The sign is flipped")


def test_a_per_example_array_with_the_right_sum_in_the_wrong_layout_fails(grade):
    source = "def per_example_dJdW2(a2, delta3):\n    return np.einsum('ij,ik->jki', a2, delta3)\n"
    result = grade(with_solution(source))
    assert scores(result)["per_example_dJdW2"] == 0
    assert "examples are on the last axis" in feedback(result, "per_example_dJdW2")


@pytest.mark.parametrize("rows, columns", [
    ("examples", "hidden units"), ("Examples", "Hidden Units"), ("  example ", "hidden unit"),
    ("EXAMPLE", "hidden units  "), ("examples", "hidden neurons"), ("Examples", "Neurons"),
    ("example", "hidden node"), ("examples", "nodes"), ("examples", "Hidden Neuron"),
    ("training examples", "hidden layer neurons"), ("Samples", "hidden layer units"),
])
def test_rows_and_columns_accept_case_spaces_singular_and_other_names(grade, rows, columns):
    result = grade(with_solution(f"A2_ROWS = {rows!r}\nA2_COLUMNS = {columns!r}\n"))
    assert scores(result)["a2_rows_and_columns"] == 1


def test_rows_and_columns_swapped_fail_and_are_named(grade):
    result = grade(with_solution("A2_ROWS = 'hidden units'\nA2_COLUMNS = 'examples'\n"))
    assert scores(result)["a2_rows_and_columns"] == 0
    assert feedback(result, "a2_rows_and_columns").startswith("Rows and columns are swapped")


@pytest.mark.parametrize("value", ["'rows'", "3", "None", "['examples']"])
def test_anything_else_scores_zero_and_lists_the_choices(grade, value):
    result = grade(with_solution(f"A2_ROWS = {value}\n"))
    assert scores(result)["a2_rows_and_columns"] == 0
    text = feedback(result, "a2_rows_and_columns")
    assert '"examples", "hidden units", "input features", "outputs"' in text


def test_missing_constants_are_not_defined(grade):
    result = grade(with_solution("del A2_COLUMNS\n"))
    assert statuses(result)["a2_rows_and_columns"] == "missing"


def test_the_answer_key_matches_the_worksheet_numbers():
    result = run_cli("key", "--format", "json")
    assert result.returncode == 0
    key = {(e["question"], e["quantity"]): e["value"] for e in json.loads(result.stdout)["key"]}
    assert key[("Q1", "dimension of dJ/dW(1)")] == [2, 3]
    assert key[("Q2", "dimension of dJ/dW(2)")] == [3, 1]
    assert key[("Q7", "dimension of delta(3), one example")] == [1, 1]
    assert key[("Q13", "dimension of delta(3), three examples")] == [3, 1]
    assert key[("Q11", "a(2)")] == [[0.785835] * 3]
    assert key[("Q11", "J (one example)")] == [[0.0133709]]
    assert key[("Q11", "delta(3)")] == [[0.0129178]]
    assert key[("Q11", "dJ/dW(2)")] == [[0.0101512]] * 3
    assert key[("Q16", "J (three examples)")] == [[0.0153285]]
    assert key[("Q16", "dJ/dW(2)")] == [[0.013664]] * 3
    assert key[("Q17", "dJ/dW(1) (Q16's data)")] == [[0.0012104] * 3, [0.00239732] * 3]
    assert key[("Q12", "rows of a(2)")] == "examples"


def test_the_answer_key_as_a_table():
    out = run_cli("key").stdout
    assert re.search(r"Q11\s+a\(2\)\s+\[\[0.785835, 0.785835, 0.785835\]\]", out)
    assert re.search(r"Q1\s+dimension of dJ/dW\(1\)\s+\(2, 3\)", out)
