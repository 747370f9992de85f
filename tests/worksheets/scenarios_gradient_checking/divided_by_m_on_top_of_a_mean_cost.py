# Issue 27, 6: the student's cost averages over the examples, and numerical_gradient divides by
# the number of examples again on top: named from the recorded calls (what their own cost gives,
# divided by m once more), not just "9 of 9 entries differ".
# base: none
# expect numerical_gradient: wrong 0.6
# expect feedback numerical_gradient: right given your own cost but for a division by 3 (the number of examples) once more: your cost divides by the number of examples already
# expect get_params: passed 1
# expect compute_gradients: passed 2
"""Numerical gradient checking guided notes: the model answer.

This file is the stub in ``stub/gradient_checking.py`` completed. It is also the grader's one
reference for this assignment: every expected value is computed by calling these functions.

Shapes follow the backpropagation worksheet's table: X is (numExamples, inputLayerSize), y is
(numExamples, outputLayerSize), W1 is (inputLayerSize, hiddenLayerSize) and W2 is
(hiddenLayerSize, outputLayerSize). Weights and gradients are unrolled into one vector: W1
then W2, each row by row.
"""

import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)). Given."""
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    """f'(z), the sigmoid's derivative. Given."""
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


# From the backpropagation worksheet (Part 4): students bring their own.
def forward(X, W1, W2):
    z2 = X @ W1
    a2 = sigmoid(z2)
    z3 = a2 @ W2
    return z2, a2, z3, sigmoid(z3)


def cost(y, yHat):
    # J per example, averaged (so it doesn't grow with the data)
    m = y.shape[0]
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True) / m


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    delta3 = -(y - yHat) * sigmoid_prime(z3)
    delta2 = (delta3 @ W2.T) * sigmoid_prime(z2)
    return X.T @ delta2, a2.T @ delta3


# Gradient checking (Part 5).
def get_params(W1, W2):
    return np.concatenate((W1.ravel(), W2.ravel()))


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    end_of_W1 = input_layer_size * hidden_layer_size
    end_of_W2 = end_of_W1 + hidden_layer_size * output_layer_size
    W1 = np.reshape(params[:end_of_W1], (input_layer_size, hidden_layer_size))
    W2 = np.reshape(params[end_of_W1:end_of_W2], (hidden_layer_size, output_layer_size))
    return W1, W2


def compute_gradients(X, y, W1, W2):
    dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
    return get_params(dJdW1, dJdW2)


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    # J is summed over the outputs too: the one number whose gradient cost_function_prime gives.
    params = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params.shape)
    for p in range(params.size):
        perturb = np.zeros(params.shape)
        perturb[p] = epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))
        numgrad[p] = (J_plus - J_minus) / (2 * epsilon) / X.shape[0]  # average over the examples
    return numgrad


def relative_error(grad, numgrad):
    return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)
