# Issue 27, 3: reshape(3, 1) where a transpose belongs is right only with the worksheet's 3
# hidden units: the hint is true here (and, right only where the answers are published,
# it earns nothing: issue 27, 8), and names the size and the others it fails with.
# base: solution
# expect status: graded
# expect lost: 1
# expect dz3dW2: raised 0
# expect feedback dz3dW2: as if sized for 3 hidden units (wrong with 4, 2 and 5)
# expect feedback dz3dW2: no points for it, and your instructor sees it


def dz3dW2(a2):
    # one example: a column of the hidden activations
    return a2.reshape(3, 1)
