# reshape for a transpose: the transpose's shape, the wrong numbers once there is more than
# one row. dz3dW2 gets one example (a row), where reshape is the transpose: right. dJdW2 and
# dJdW1 are right with one example (Q11, random 2) and named on the others.
# base: none
# expect lost: 1.8
# expect dz3dW2: passed 1
# expect dJdW2: wrong 0.8
# expect diagnosis dJdW2: dJdW2.reshaped
# expect dJdW1: wrong 0.4
# expect diagnosis dJdW1: dJdW1.reshaped
# expect feedback dJdW1: X is reshaped, not transposed
# expect other diagnoses: none
# expect cost_function_prime: passed 2
# backprop.py  -- Part 4 worksheet
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
    J = 0.5 * np.sum((y - yHat)**2, axis=0, keepdims=True)
    return J

def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)

def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)

def dJdyHat(y, yHat):
    return -(y - yHat)

def per_example_dJdW2(a2, delta3):
    n = a2.shape[0]
    out = np.zeros((n, a2.shape[1], delta3.shape[1]))
    for i in range(n):
        out[i] = np.dot(a2[i:i+1].reshape(a2.shape[1], 1), delta3[i:i+1])
    return out

def sigmoid_prime(z):
    return np.exp(-z) / ((1 + np.exp(-z))**2)

def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)

def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)

A2_ROWS = "examples"
A2_COLUMNS = "hidden units"

def dz3dW2(a2):
    # a2 is a row (1, hidden) -> make it a column (hidden, 1)
    return a2.reshape(a2.shape[1], a2.shape[0])

def dJdW2(a2, delta3):
    # (a2)^T delta3 -- flip a2 so the shapes line up
    a2T = a2.reshape(a2.shape[1], a2.shape[0])
    return np.dot(a2T, delta3)

def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)

def dJdW1(X, delta2):
    XT = X.reshape(X.shape[1], X.shape[0])
    return np.dot(XT, delta2)

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)

X = np.array([[0.3, 1.0]])
y = np.array([[0.75]])
W1, W2 = np.ones((2, 3)), np.ones((3, 1))
print(cost_function_prime(X, y, W1, W2))
