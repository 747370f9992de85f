"""Where a wrong gradient goes wrong: a wrong cost_function_prime is checked against the
numerical gradient of the student's own forward and cost (issue 17, "Beyond the series")."""

from __future__ import annotations

import numpy as np

from conftest import BACKPROP, with_solution
from grader.judge import own_gradient

# Backpropagation itself wrong: f'(z2) left out of delta(2), written inline.
MISSES_FPRIME = with_solution('''
def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = -(y - yHat) * sigmoid_prime(z3)
    d2 = d3 @ W2.T
    return X.T @ d2, a2.T @ d3
''')
# Backpropagation right for a cost that is wrong: no 1/2, and a gradient twice the right one.
NO_HALF = with_solution('''
def cost(y, yHat):
    return np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = -2 * (y - yHat) * sigmoid_prime(z3)
    d2 = (d3 @ W2.T) * sigmoid_prime(z2)
    return X.T @ d2, a2.T @ d3
''')


def _feedback(result, question_id):
    return next(q for q in result.questions if q.question.id == question_id).feedback


def test_a_backpropagation_mistake_is_not_the_gradient_of_the_students_own_cost(grade):
    said = _feedback(grade(MISSES_FPRIME), "cost_function_prime")
    assert "Your gradient is not the gradient of your own cost" in said
    assert "the mistake is in backpropagation itself" in said


def test_a_gradient_that_matches_a_wrong_cost_points_upstream(grade):
    result = grade(NO_HALF)
    said = _feedback(result, "cost_function_prime")
    assert "Your gradient matches your own cost, which is wrong" in said and said.endswith("fix cost")
    assert "1/2 of equation (5) is missing" in _feedback(result, "cost")


def test_right_answers_and_carried_credit_get_no_such_note(grade):
    from conftest import SOLUTION

    right = grade(SOLUTION)
    assert "numerical gradient" not in _feedback(right, "cost_function_prime")
    carried = grade(with_solution("def dJdW2(a2, delta3):\n    return a2.T @ delta3 * 2\n"))
    assert "numerical gradient" not in _feedback(carried, "cost_function_prime")


def test_the_in_process_self_check_says_the_same():
    from grader import check

    namespace: dict = {}
    exec(compile(MISSES_FPRIME, "<answers>", "exec"), namespace)
    card = check("cost_function_prime", namespace=namespace)
    assert "Your gradient is not the gradient of your own cost" in card.questions[0].feedback


def test_values_that_are_not_what_was_asked_say_nothing():
    W1, W2 = np.ones((2, 3)), np.ones((3, 1))
    right = [np.zeros((2, 3)), np.zeros((3, 1))]
    for forged in ([1.0] * 5, "text", [float("nan")] * 18, [[1.0, 2.0, 3.0]] * 9):
        assert own_gradient.note(right, forged, W1, W2, ("cost",), BACKPROP.own_gradient) is None
    assert own_gradient.note([np.zeros((3, 2)), np.zeros((3, 1))], [0.0] * 18, W1, W2, (), BACKPROP.own_gradient) is None
