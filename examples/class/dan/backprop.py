# Dan: the right numbers, but some matrices the wrong way round.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    return z2, a2, z3, sigmoid(z3)


def cost(y, yHat):
    return np.sum(0.5 * (y - yHat) ** 2, axis=0, keepdims=True)


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, input_layer_size)


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)


def sigmoid_prime(z):
    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)


def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)


def dz3dW2(a2):
    return a2


def dJdW2(a2, delta3):
    return np.dot(delta3.T, a2)


def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)


def dJdW1(X, delta2):
    return np.dot(X.T, delta2)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    return dJdW1(X, delta2(d3, W2, z2)), np.dot(a2.T, d3)


def dJdyHat(y, yHat):
    return -(y - yHat)


def per_example_dJdW2(a2, delta3):
    return np.array([np.outer(a2[i], delta3[i]) for i in range(len(a2))])


# Q12: the matrix is a(2) W(2)... so the rows go with W2's rows?
A2_ROWS = "Hidden Units"
A2_COLUMNS = "example"
