"""Backpropagation guided notes: the model answer.

This file is the stub in ``stub/backprop.py`` completed. It is also the grader's one
reference: every expected value the grader compares a student's answer with is computed by
calling these functions, so the math lives here and nowhere else.

Shapes follow the worksheet's table: X is (numExamples, inputLayerSize), y is
(numExamples, outputLayerSize), W1 is (inputLayerSize, hiddenLayerSize) and W2 is
(hiddenLayerSize, outputLayerSize).
"""

import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)), applied elementwise."""
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    """Equations (1)-(4): return (z2, a2, z3, yHat)."""
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat


def cost(y, yHat):
    """Equation (5): J = sum of 1/2 (y - yHat)^2 over the examples, shape (1, outputLayerSize)."""
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    """Q1: the dimension of dJ/dW1 is the dimension of W1."""
    return (input_layer_size, hidden_layer_size)


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    """Q2: the dimension of dJ/dW2 is the dimension of W2."""
    return (hidden_layer_size, output_layer_size)


def dJdyHat(y, yHat):
    """Q4: the chain rule's first factor, dJ/dyHat = -(y - yHat), one entry per example and output."""
    return -(y - yHat)


def per_example_dJdW2(a2, delta3):
    """Q3, Q14: each example's own dJ/dW2, stacked: shape (numExamples, hidden, outputs).

    Entry i is (a2_i)^T delta3_i; the sum over axis 0 (the sum rule of Q3) is dJ/dW2.
    """
    return a2[:, :, np.newaxis] * delta3[:, np.newaxis, :]


def sigmoid_prime(z):
    """Q6: f'(z) = e^(-z) / (1 + e^(-z))^2, elementwise."""
    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)


def delta3_shape(num_examples, output_layer_size):
    """Q7, Q13: delta3 has one row per example and one column per output."""
    return (num_examples, output_layer_size)


def delta3(y, yHat, z3):
    """The backpropagating error delta3 = -(y - yHat) f'(z3), elementwise."""
    return -(y - yHat) * sigmoid_prime(z3)


# Q12: in z(3) = a(2) W(2) with three examples, the rows of a(2) are the examples and its
# columns the hidden units.
A2_ROWS = "examples"
A2_COLUMNS = "hidden units"


def dz3dW2(a2):
    """Q9, Q10: for one example, dz3/dW2 = (a2)^T, shape (hiddenLayerSize, 1)."""
    return a2.T


def dJdW2(a2, delta3):
    """Q11, Q14-Q16: dJ/dW2 = (a2)^T delta3, the sum over the examples."""
    return np.dot(a2.T, delta3)


def delta2(delta3, W2, z2):
    """Q17: delta2 = delta3 (W2)^T * f'(z2)."""
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)


def dJdW1(X, delta2):
    """Q17: dJ/dW1 = X^T delta2."""
    return np.dot(X.T, delta2)


def cost_function_prime(X, y, W1, W2):
    """Your Mission: return (dJdW1, dJdW2) for the whole batch."""
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)
