# Erin: handed in mid-edit.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    z2 = np.dot(X, W1
    a2 = sigmoid(z2)
    return z2, a2
