# per_example_dJdW2 returns the sum, dJ/dW2 itself, not one gradient per example. Q12's
# columns as "Neurons": a name for the hidden units.
# base: none
# expect lost: 1
# expect per_example_dJdW2: wrong 0
# expect diagnosis per_example_dJdW2: per_example_dJdW2.summed
# expect feedback per_example_dJdW2: This is dJ/dW(2) itself, already summed over the examples
# expect other diagnoses: none
# expect a2_rows_and_columns: passed 1
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat


def cost(y, yHat):
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)


def dJdyHat(y, yHat):
    return -(y - yHat)


def per_example_dJdW2(a2, delta3):
    # Q3: sum rule -> dJ/dW2 = sum over examples of each example's gradient
    # Q14: adding across the examples is the same as a2^T delta3
    total = np.dot(a2.T, delta3)
    return total


def sigmoid_prime(z):
    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)


def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)


A2_ROWS = "Examples"
A2_COLUMNS = "Neurons"


def dz3dW2(a2):
    return a2.T


def dJdW2(a2, delta3):
    return np.dot(a2.T, delta3)


def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)


def dJdW1(X, delta2):
    return np.dot(X.T, delta2)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    return dJdW1(X, delta2(d3, W2, z2)), dJdW2(a2, d3)
