# Issue 27, 6 (teacher's review): set_params(plus, 2, 3, 1), numbers written in for the worksheet's
# network. Said as the same values on every case, never as a swap (the literals happen to equal
# a seeded network's sizes in another order).
# base: none
# expect feedback numerical_gradient: passes the same input_layer_size, hidden_layer_size and output_layer_size to set_params on every case
# expect unsaid numerical_gradient: where it takes
"""Numerical gradient checking guided notes -- Sam W.

Ravi M. -- numerical gradient for the notes network
"""

import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)), applied elementwise. Given."""
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    """f'(z), the sigmoid's derivative, applied elementwise. Given."""
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


def forward(X, W1, W2):
    z2 = X @ W1
    a2 = sigmoid(z2)
    z3 = a2 @ W2
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat


def cost(y, yHat):
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    delta3 = -(y - yHat) * sigmoid_prime(z3)
    dJdW2 = a2.T @ delta3
    delta2 = delta3 @ W2.T * sigmoid_prime(z2)
    dJdW1 = X.T @ delta2
    return dJdW1, dJdW2


def get_params(W1, W2):
    return np.concatenate((W1.ravel(), W2.ravel()))


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    W1_end = input_layer_size * hidden_layer_size
    W1 = params[:W1_end].reshape(input_layer_size, hidden_layer_size)
    W2 = params[W1_end:W1_end + hidden_layer_size * output_layer_size].reshape(hidden_layer_size, output_layer_size)
    return W1, W2


def compute_gradients(X, y, W1, W2):
    dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
    return np.concatenate((dJdW1.ravel(), dJdW2.ravel()))


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    params = get_params(W1, W2)
    # network is 2-3-1
    numgrad = np.zeros(len(params))
    for k in range(len(params)):
        plus = params.copy()
        plus[k] += epsilon
        minus = params.copy()
        minus[k] -= epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(plus, 2, 3, 1))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(minus, 2, 3, 1))[3]))
        numgrad[k] = (J_plus - J_minus) / (2 * epsilon)
    return numgrad


def relative_error(grad, numgrad):
    return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)
