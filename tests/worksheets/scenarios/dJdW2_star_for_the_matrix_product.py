# dJ/dW2 as a2.T * delta3: `*` where Q15's matrix product is needed. numpy broadcasts the
# (hidden, n) and (n, outputs) arrays: right with one example (Q11, random 2), a (3, 3) on Q16,
# and "operands could not be broadcast" on random 1 and 3. The catalogue's formula raises on
# the same cases, so the mistake is named from Q16's wrong answer. Q12 says "hidden neurons".
# base: none
# expect lost: 1.2
# expect dJdW2: raised 0.8
# expect diagnosis dJdW2: dJdW2.elementwise_transposed
# expect feedback dJdW2: The transpose of a(2) and delta(3) are multiplied elementwise
# expect other diagnoses: none
# expect a2_rows_and_columns: passed 1
# expect cost_function_prime: passed 2
# Backprop worksheet -- my answers
# (Q11 checked by hand, matches 0.74s)

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    z2 = np.dot(X, W1)          # (1)
    a2 = sigmoid(z2)            # (2)
    z3 = np.dot(a2, W2)         # (3)
    yHat = sigmoid(z3)          # (4)
    return z2, a2, z3, yHat


def cost(y, yHat):
    # J = sum 1/2 (y - yHat)^2, summed over the examples
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)   # same as W1


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)  # same as W2


def dJdyHat(y, yHat):
    return -(y - yHat)


def per_example_dJdW2(a2, delta3):
    grads = []
    for i in range(a2.shape[0]):
        grads.append(np.outer(a2[i], delta3[i]))
    return np.array(grads)


def sigmoid_prime(z):
    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)


def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)


A2_ROWS = "examples"
A2_COLUMNS = "hidden neurons"


def dz3dW2(a2):
    return a2.T


def dJdW2(a2, delta3):
    # Q15: dJ/dW2 = (a2)^T delta3
    return a2.T * delta3


def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)


def dJdW1(X, delta2):
    return np.dot(X.T, delta2)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)


# checking Q11 against what I got on paper
X = np.array([[0.3, 1.0]])
y = np.array([[0.75]])
W1 = np.ones((2, 3))
W2 = np.ones((3, 1))
z2, a2, z3, yHat = forward(X, W1, W2)
print("yHat", yHat)
print("dJdW2", dJdW2(a2, delta3(y, yHat, z3)))
