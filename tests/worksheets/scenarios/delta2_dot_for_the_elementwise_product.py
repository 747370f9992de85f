# delta2 with np.dot for the product with f'(z2). np.dot of two (n, hidden) arrays raises
# ("shapes not aligned") on every case but Q16, where n = hidden = 3 and it is a matrix product
# of the wrong numbers: named from that one case.
# base: none
# expect lost: 2
# expect delta2: raised 0
# expect diagnosis delta2: delta2.dot_product
# expect feedback delta2: is np.dot, a matrix product
# expect other diagnoses: none
# expect cost_function_prime: passed 2
"""Backprop worksheet answers."""
import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)), applied elementwise. Given."""
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    z2 = X @ W1
    a2 = sigmoid(z2)
    z3 = a2 @ W2
    return z2, a2, z3, sigmoid(z3)


def cost(y, yHat):
    return 0.5 * ((y - yHat) ** 2).sum(axis=0, keepdims=True)


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return input_layer_size, hidden_layer_size


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return hidden_layer_size, output_layer_size


def dJdyHat(y, yHat):
    return yHat - y


def per_example_dJdW2(a2, delta3):
    return a2[:, :, None] * delta3[:, None, :]


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)


def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)


A2_ROWS = "examples"
A2_COLUMNS = "hidden units"


def dz3dW2(a2):
    return a2.T


def dJdW2(a2, delta3):
    return a2.T @ delta3


def delta2(delta3, W2, z2):
    # Q17: carry the error back through W2, then through f'
    # print(delta3.shape, W2.shape, z2.shape)
    return np.dot(np.dot(delta3, W2.T), sigmoid_prime(z2))


def dJdW1(X, delta2):
    return X.T @ delta2


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)


if __name__ == "__main__":
    # Q16's numbers
    X = np.array([[3, 5], [5, 1], [10, 2]], dtype=float)
    X = X / X.max(axis=0)
    y = np.array([[75], [82], [93]]) / 100
    g1, g2 = cost_function_prime(X, y, np.ones((2, 3)), np.ones((3, 1)))
    print(g1)
    print(g2)
