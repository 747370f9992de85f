# A shape mismatch says both shapes.
# base: solution
# expect score: 19
# expect dz3dW2: wrong 0
# expect feedback dz3dW2: shape (1, 3), but the answer has shape (3, 1)


def dz3dW2(a2):
    return a2
