# The series' own Neural_Network class (Part 4, with Part 7's Lambda): graded on the questions
# it answers, the grader setting W1 and W2; the others name the stub functions to add.
# base: none
# (no total: what this file earns is the questions below, whatever else the worksheet asks)
# expect forward: passed 1
# expect cost: passed 1
# expect sigmoid_prime: passed 2
# expect cost_function_prime: passed 2
# expect dJdW2: missing 0
# expect feedback dJdW2: the Neural_Network class answers forward, sigmoid_prime, cost and cost_function_prime only; add the stub's dJdW2(a2, delta3)
import numpy as np


class Neural_Network(object):
    def __init__(self, Lambda=0):
        self.inputLayerSize = 2
        self.outputLayerSize = 1
        self.hiddenLayerSize = 3
        self.W1 = np.random.randn(self.inputLayerSize, self.hiddenLayerSize)
        self.W2 = np.random.randn(self.hiddenLayerSize, self.outputLayerSize)
        self.Lambda = Lambda

    def forward(self, X):
        self.z2 = np.dot(X, self.W1)
        self.a2 = self.sigmoid(self.z2)
        self.z3 = np.dot(self.a2, self.W2)
        yHat = self.sigmoid(self.z3)
        return yHat

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def sigmoidPrime(self, z):
        return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

    def costFunction(self, X, y):
        self.yHat = self.forward(X)
        J = 0.5 * sum((y - self.yHat) ** 2) + (self.Lambda / 2) * (np.sum(self.W1 ** 2) + np.sum(self.W2 ** 2))
        return J

    def costFunctionPrime(self, X, y):
        self.yHat = self.forward(X)
        delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
        dJdW2 = np.dot(self.a2.T, delta3) + self.Lambda * self.W2
        delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)
        dJdW1 = np.dot(X.T, delta2) + self.Lambda * self.W1
        return dJdW1, dJdW2
