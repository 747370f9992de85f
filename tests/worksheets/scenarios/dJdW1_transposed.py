# dJ/dW1 as np.dot(delta2.T, X): the right numbers, transposed. Q12's columns as "nodes".
# base: none
# expect lost: 1
# expect dJdW1: wrong 0
# expect diagnosis dJdW1: dJdW1.transposed
# expect feedback dJdW1: Right numbers, transposed: dJ/dW(1)
# expect other diagnoses: none
# expect a2_rows_and_columns: passed 1
# expect cost_function_prime: passed 2
# Part 4 -- backpropagation
# Q17 took me a while: delta2 first, then dJdW1 from X

import numpy as np

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def sigmoid_prime(z):
    return np.exp(-z) / (1.0 + np.exp(-z)) ** 2

def forward(X, W1, W2):
    z2 = X.dot(W1)
    a2 = sigmoid(z2)
    z3 = a2.dot(W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat

def cost(y, yHat):
    return 0.5 * np.sum(np.square(y - yHat), axis=0, keepdims=True)

def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)

def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)

def dJdyHat(y, yHat):
    return -(y - yHat)

def per_example_dJdW2(a2, delta3):
    return np.stack([np.outer(a, d) for a, d in zip(a2, delta3)])

def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)

def delta3(y, yHat, z3):
    return np.multiply(-(y - yHat), sigmoid_prime(z3))

A2_ROWS = "examples"
A2_COLUMNS = "nodes"

def dz3dW2(a2):
    return a2.T

def dJdW2(a2, delta3):
    return np.dot(a2.T, delta3)

def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)

def dJdW1(X, delta2):
    # same pattern as dJdW2 = a2^T delta3, with X in place of a2
    # print(delta2.shape, X.shape)
    return np.dot(delta2.T, X)

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)
