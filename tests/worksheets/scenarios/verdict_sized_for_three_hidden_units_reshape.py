# Issue 27, 3: reshape(3, 1) where a transpose belongs is right only with the worksheet's 3
# hidden units: the hint is true here, and names the size and the others it fails with.
# base: solution
# expect status: graded
# expect lost: 0.6
# expect dz3dW2: raised 0.4
# expect feedback dz3dW2: right only with 3 hidden units, as on the worksheet, and wrong with 4, 2 and 5


def dz3dW2(a2):
    # one example: a column of the hidden activations
    return a2.reshape(3, 1)
