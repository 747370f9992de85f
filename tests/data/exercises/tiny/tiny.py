"""Tiny vectors: fill in each function (see notes.md)."""

import numpy as np  # noqa: F401 - the functions students write use it

V_IS_A = None  # Q7: is v a "row" or a "column"?


def square(v):
    """Q1: each entry squared."""
    raise NotImplementedError


def norm(v):
    """Q2: the vector's length."""
    raise NotImplementedError


def unit(v):
    """Q3-Q4: the vector scaled to length 1."""
    raise NotImplementedError


def outer_shape(n, m):
    """Q5: the shape of the outer product of an n-vector and an m-vector."""
    raise NotImplementedError


def split(v):
    """Q6: the positive entries and the negative ones, zeros elsewhere."""
    raise NotImplementedError
