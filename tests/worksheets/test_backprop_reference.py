"""The model answer is right: pinned worksheet numbers, and a finite-difference gradient check."""

import numpy as np
import pytest

from grader import assignment

BACKPROP = assignment.load("backprop")
ref = BACKPROP.reference  # the model answer, solutions/backprop/backprop.py

Q11, Q16 = (case.network for case in BACKPROP.worksheet_cases())


def test_q11_forward_pass_and_cost():
    z2, a2, z3, yHat = ref.forward(Q11.X, Q11.W1, Q11.W2)
    np.testing.assert_allclose(z2, [[1.3, 1.3, 1.3]])
    np.testing.assert_allclose(a2, [[0.785835] * 3], rtol=1e-6)
    assert ref.cost(Q11.y, yHat).item() == pytest.approx(0.0133709, rel=1e-5)


def test_q11_delta3_and_dJdW2():
    z2, a2, z3, yHat = ref.forward(Q11.X, Q11.W1, Q11.W2)
    d3 = ref.delta3(Q11.y, yHat, z3)
    assert d3.item() == pytest.approx(0.0129178, rel=1e-5)
    np.testing.assert_allclose(ref.dJdW2(a2, d3), [[0.0101512]] * 3, rtol=1e-5)


def test_q16_gradients_and_three_example_cost():
    np.testing.assert_allclose(Q16.X, [[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]])
    np.testing.assert_allclose(Q16.y, [[0.75], [0.82], [0.93]])
    dJdW1, dJdW2 = ref.cost_function_prime(Q16.X, Q16.y, Q16.W1, Q16.W2)
    np.testing.assert_allclose(dJdW2, [[0.0136640]] * 3, rtol=1e-5)
    np.testing.assert_allclose(dJdW1, [[0.00121040] * 3, [0.00239732] * 3], rtol=1e-5)
    yHat = ref.forward(Q16.X, Q16.W1, Q16.W2)[3]
    assert ref.cost(Q16.y, yHat).shape == (1, 1)  # (1, outputLayerSize), summed over examples
    assert ref.cost(Q16.y, yHat).item() == pytest.approx(0.0153285, rel=1e-5)


def _numerical_gradient(X, y, W1, W2, epsilon=1e-5):
    """The series' Part 5 check: perturb each weight and watch J (central differences)."""
    grads = []
    for W in (W1, W2):
        grad = np.zeros_like(W)
        for index in np.ndindex(W.shape):
            saved = W[index]
            W[index] = saved + epsilon
            plus = ref.cost(y, ref.forward(X, W1, W2)[3]).sum()
            W[index] = saved - epsilon
            minus = ref.cost(y, ref.forward(X, W1, W2)[3]).sum()
            W[index] = saved
            grad[index] = (plus - minus) / (2 * epsilon)
        grads.append(grad)
    return grads


@pytest.mark.parametrize("seed", range(5))
def test_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n, i, h, o = rng.integers(1, 6, size=4)
    X, y = rng.uniform(0, 1, (n, i)), rng.uniform(0, 1, (n, o))
    W1, W2 = rng.normal(0, 1, (i, h)), rng.normal(0, 1, (h, o))
    analytic = ref.cost_function_prime(X, y, W1, W2)
    numeric = _numerical_gradient(X, y, W1, W2)
    for a, b in zip(analytic, numeric):
        assert a.shape == b.shape
        assert np.linalg.norm(a - b) / np.linalg.norm(a + b) < 1e-8


def test_sigmoid_prime_is_the_derivative_of_sigmoid():
    z = np.linspace(-6, 6, 25)
    numeric = (ref.sigmoid(z + 1e-6) - ref.sigmoid(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(ref.sigmoid_prime(z), numeric, rtol=1e-6)


def test_seeded_cases_cover_other_sizes():
    cases = BACKPROP.seeded_cases(BACKPROP.default_seed)
    sizes = [case.network.sizes for case in cases]
    assert len(cases) >= 3
    assert any(h != 3 for _, _, h, _ in sizes)
    assert any(o > 1 for *_, o in sizes)
    assert any(n == 1 for n, *_ in sizes)


def test_same_seed_same_cases_and_other_seed_other_values():
    first, again = BACKPROP.seeded_cases(7), BACKPROP.seeded_cases(7)
    other = BACKPROP.seeded_cases(8)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a.network.X, b.network.X)
        assert not np.array_equal(a.network.W1, c.network.W1)


def test_points_total_twenty_and_every_question_has_its_reference():
    # The one test of the worksheet's total: a question added or re-weighed changes it here
    # (and in assignment.toml's comment), nowhere else.
    assert BACKPROP.max_score == 20

    for question in BACKPROP.questions:
        if question.constants:
            assert all(isinstance(getattr(ref, name), str) for name in question.constants)
        else:
            assert callable(getattr(ref, question.id))
