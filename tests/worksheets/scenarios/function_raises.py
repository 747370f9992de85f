# A function that raises costs that question only, with the exception's message and line.
# base: solution
# expect lost: 1
# expect dz3dW2: raised 0
# expect feedback dz3dW2: ValueError: not sure about this one (line


def dz3dW2(a2):
    raise ValueError("not sure about this one")
