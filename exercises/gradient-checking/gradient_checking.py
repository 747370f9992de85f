"""Numerical gradient checking guided notes: your answers.

Fill in one function per guided question.

Check your work as you go with gradient_checking_check.py, the self-check file your instructor
hands out (it needs numpy only): it checks each function on the notes' numbers and on practice
networks of other sizes, and says what is wrong; your grade comes from the grader, on more
cases. Put it beside this file and run

    python gradient_checking_check.py gradient_checking.py

Bring your forward, cost and cost_function_prime from the backpropagation worksheet: paste
them below. Weights and gradients are unrolled into one vector: W1 then W2, each row by row.
Inputs are numpy arrays; return numpy arrays for vectors and a plain number for the
relative error.
"""

import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)), applied elementwise. Given."""
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    """f'(z), the sigmoid's derivative, applied elementwise. Given."""
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


def forward(X, W1, W2):
    """From Part 4: paste your forward pass. Returns (z2, a2, z3, yHat)."""
    raise NotImplementedError


def cost(y, yHat):
    """From Part 4: paste your cost. J = sum of 1/2 (y - yHat)^2, shape (1, outputLayerSize)."""
    raise NotImplementedError


def cost_function_prime(X, y, W1, W2):
    """From Part 4: paste your backpropagation. Returns (dJdW1, dJdW2)."""
    raise NotImplementedError


def get_params(W1, W2):
    """Q1, Q2. Every weight in one vector: W1 first, then W2, each read row by row.

    Return a 1-D array of inputLayerSize * hiddenLayerSize + hiddenLayerSize * outputLayerSize
    numbers.
    """
    raise NotImplementedError


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    """Q3. The vector rolled back into the two weight matrices, exactly as get_params wrote it.

    Return the tuple (W1, W2), shapes (inputLayerSize, hiddenLayerSize) and
    (hiddenLayerSize, outputLayerSize).
    """
    raise NotImplementedError


def compute_gradients(X, y, W1, W2):
    """Q4. The gradient from backpropagation, unrolled the same way as the weights.

    Return a 1-D array: dJ/dW1's entries, then dJ/dW2's, each row by row.
    """
    raise NotImplementedError


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    """Q5-Q8. The gradient of J estimated from its definition, one weight at a time.

    For each weight: (J(w + epsilon) - J(w - epsilon)) / (2 epsilon), every other weight held
    where it was, and the weight put back afterwards. J is the cost summed over the examples
    and the outputs. Return a 1-D array, ordered like get_params.
    """
    raise NotImplementedError


def relative_error(grad, numgrad):
    """Q9, Q10. How far apart the two gradients are, relative to their size.

    Return the number |grad - numgrad| / |grad + numgrad|, with |v| a vector's length.
    """
    raise NotImplementedError
