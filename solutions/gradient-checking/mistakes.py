"""Helpers for this assignment's catalogue formulas (misconceptions.toml): each computes a
known wrong numerical gradient, in the grader, from the model answer's functions. Trusted
instructor code; never sent to a student's process. The catalogue calls them by name."""

import numpy as np


def _J(forward, cost, X, y, params, sizes, set_params):
    W1, W2 = set_params(params, *sizes)
    return float(np.sum(cost(y, forward(X, W1, W2)[3])))


def _gradient(reference, X, y, W1, W2, epsilon, step):
    """numgrad[p] = step(J at some weights, p) for each weight p, J from the model answer."""
    params = reference.get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])

    def J(at):
        return _J(reference.forward, reference.cost, X, y, at, sizes, reference.set_params)

    return np.array([step(J, params, p) for p in range(params.size)])


def one_sided(reference, X, y, W1, W2, epsilon=1e-4):
    """(J(w + e) - J(w)) / e: a forward difference, not the central one."""
    def step(J, params, p):
        pushed = params.copy()
        pushed[p] += epsilon
        return (J(pushed) - J(params)) / epsilon

    return _gradient(reference, X, y, W1, W2, epsilon, step)


def never_reset(reference, X, y, W1, W2, epsilon=1e-4):
    """The perturbation vector never set back to zero: weight p is pushed with every weight
    before it still pushed."""
    def step(J, params, p):
        perturb = np.zeros(params.shape)
        perturb[:p + 1] = epsilon
        return (J(params + perturb) - J(params - perturb)) / (2 * epsilon)

    return _gradient(reference, X, y, W1, W2, epsilon, step)


def not_restored(reference, X, y, W1, W2, epsilon=1e-4):
    """Each weight pushed up, then down, in place, and never put back: every weight before p
    is left at w - e when weight p is checked."""
    def step(J, params, p):
        left = params.copy()
        left[:p] -= epsilon
        up, down = left.copy(), left.copy()
        up[p] += epsilon
        down[p] -= epsilon
        return (J(up) - J(down)) / (2 * epsilon)

    return _gradient(reference, X, y, W1, W2, epsilon, step)


def all_at_once(reference, X, y, W1, W2, epsilon=1e-4):
    """Every weight pushed together (params + epsilon, a number added to the whole vector) on
    every turn: each entry is the same slope, along all the weights at once."""
    def step(J, params, p):
        return (J(params + epsilon) - J(params - epsilon)) / (2 * epsilon)

    return _gradient(reference, X, y, W1, W2, epsilon, step)


def aliased(reference, X, y, W1, W2, epsilon=1e-4):
    """params_plus = params, pushed up, J; params_minus = params, pushed down, J: one array,
    so the push down undoes the push up and J is compared at w + e and at w, over 2e (about
    half the one-sided difference). The array is changed in place, as the student's is."""
    def step(J, params, p):
        params[p] += epsilon
        J_plus = J(params)
        params[p] -= epsilon
        return (J_plus - J(params)) / (2 * epsilon)

    return _gradient(reference, X, y, W1, W2, epsilon, step)
