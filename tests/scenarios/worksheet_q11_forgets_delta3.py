# The filled-in worksheet's Q11: dJ/dW2 = (a2)^T, the backpropagating error forgotten.
# cost_function_prime calls it, so it loses its points too.
# base: solution
# expect status: graded
# expect score: 15
# expect dJdW2: wrong 0
# expect cost_function_prime: wrong 0
# expect feedback dJdW2: worksheet Q11 (one example): 3 of 3 entries differ


def dJdW2(a2, delta3):
    return a2.T
