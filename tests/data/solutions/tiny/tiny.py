"""The tiny assignment's model answer."""

import numpy as np

V_IS_A = "row"


def square(v):
    """Q1: each entry squared."""
    return v ** 2


def norm(v):
    """Q2: the vector's length."""
    return np.sqrt(np.sum(square(v)))


def unit(v):
    """Q3-Q4: the vector scaled to length 1."""
    return v / norm(v)


def outer_shape(n, m):
    """Q5: the shape of the outer product of an n-vector and an m-vector."""
    return (n, m)


def split(v):
    """Q6: the positive entries and the negative ones, zeros elsewhere."""
    return np.maximum(v, 0), np.minimum(v, 0)
