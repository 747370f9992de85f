# An uncatalogued mistake gets the plain comparison: shapes first, both of them.
# base: solution
# expect lost: 1
# expect dz3dW2: wrong 0
# expect diagnosis dz3dW2: none
# expect feedback dz3dW2: shape (1, 3), but the answer has shape (3, 1)
import numpy as np


def dz3dW2(a2):
    return np.ones_like(a2)
