# A function indented one level too far, into the one before it: it exists only while that one
# runs, and the feedback says so.
# base: none
# expect status: graded
# (no total: what this file earns is the questions below, whatever else the worksheet asks)
# expect sigmoid_prime: missing 0
# expect feedback sigmoid_prime: not defined when graded: your sigmoid_prime at line 14 is inside your function
# expect feedback sigmoid_prime: sigmoid (line 12), so it exists only while sigmoid runs; move it to the top level
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))
    def sigmoid_prime(z):
        return np.exp(-z) / (1 + np.exp(-z)) ** 2
