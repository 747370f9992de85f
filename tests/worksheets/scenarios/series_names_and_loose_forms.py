# The series' camelCase names, shapes as lists, and J as the series' (outputLayerSize,) vector.
# base: none
# (no total: what this file earns is the questions below, whatever else the worksheet asks)
# expect sigmoid_prime: passed 2
# expect cost_function_prime: passed 2
# expect dJdW1_shape: passed 1
# expect cost: passed 1
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoidPrime(z):
    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)


def cost(y, yHat):
    return 0.5 * sum((y - yHat) ** 2)


def dJdW1_shape(i, h, o):
    return [i, h]


def costFunctionPrime(X, y, W1, W2):
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    yHat = sigmoid(z3)
    delta3 = np.multiply(-(y - yHat), sigmoidPrime(z3))
    dJdW2 = np.dot(a2.T, delta3)
    delta2 = np.dot(delta3, W2.T) * sigmoidPrime(z2)
    dJdW1 = np.dot(X.T, delta2)
    return dJdW1, dJdW2
