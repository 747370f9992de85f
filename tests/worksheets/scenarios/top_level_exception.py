# A top-level exception does not zero the file: what was defined before it is graded, and what
# comes after it is said to have been written but never reached (not "not defined").
# base: none
# expect status: graded
# (no total: what this file earns is the questions below, whatever else the worksheet asks)
# expect forward: passed 1
# expect cost: missing 0
# expect feedback cost: not defined when graded: your cost at line 24 was never reached: the file stopped
# expect feedback cost: at line 21 (NameError: name 'X' is not defined), as Python stops a file at its first error; fix that line
# expect load_error: line 21: NameError
import numpy as np


def forward(X, W1, W2):
    z2 = X @ W1
    a2 = 1 / (1 + np.exp(-z2))
    z3 = a2 @ W2
    return z2, a2, z3, 1 / (1 + np.exp(-z3))


print(forward(X, W1, W2))  # a student's own test, with names that exist only in their notebook


def cost(y, yHat):
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)
