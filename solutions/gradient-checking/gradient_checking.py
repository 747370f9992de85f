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
    """Equations (1)-(4) of Part 4: return (z2, a2, z3, yHat)."""
    z2 = X @ W1
    a2 = sigmoid(z2)
    z3 = a2 @ W2
    return z2, a2, z3, sigmoid(z3)


def cost(y, yHat):
    """Equation (5) of Part 4: J = sum of 1/2 (y - yHat)^2 over the examples, shape (1, outputLayerSize)."""
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def cost_function_prime(X, y, W1, W2):
    """Part 4's mission: (dJdW1, dJdW2) for the whole batch."""
    z2, a2, z3, yHat = forward(X, W1, W2)
    delta3 = -(y - yHat) * sigmoid_prime(z3)
    delta2 = (delta3 @ W2.T) * sigmoid_prime(z2)
    return X.T @ delta2, a2.T @ delta3


# Gradient checking (Part 5).
def get_params(W1, W2):
    """Q1-Q2: every weight in one vector, W1's then W2's, each matrix read row by row."""
    return np.concatenate((W1.ravel(), W2.ravel()))


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    """Q3: get_params undone: W1 and W2 read back from the vector in the order it wrote them."""
    end_of_W1 = input_layer_size * hidden_layer_size
    end_of_W2 = end_of_W1 + hidden_layer_size * output_layer_size
    W1 = np.reshape(params[:end_of_W1], (input_layer_size, hidden_layer_size))
    W2 = np.reshape(params[end_of_W1:end_of_W2], (hidden_layer_size, output_layer_size))
    return W1, W2


def compute_gradients(X, y, W1, W2):
    """Q4: dJ/dW1 and dJ/dW2 unrolled as get_params unrolls the weights: entry k is the
    derivative with respect to the weight in entry k of params."""
    dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
    return get_params(dJdW1, dJdW2)


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    """Q5-Q8: numgrad[k] = (J(w + ε) − J(w − ε)) / 2ε for the weight w in entry k of params,
    pushed alone, up then down, and put back: the central difference."""
    # J is summed over the outputs too: the one number whose gradient cost_function_prime gives.
    params = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params.shape)
    for p in range(params.size):
        perturb = np.zeros(params.shape)
        perturb[p] = epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))
        numgrad[p] = (J_plus - J_minus) / (2 * epsilon)
    return numgrad


def relative_error(grad, numgrad):
    """Q9: relative error = ‖grad − numgrad‖ / ‖grad + numgrad‖, about 1e-8 or less when grad is right."""
    return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)
