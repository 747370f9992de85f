# dJ/dW1 as np.dot(delta2.T, X): the right numbers, transposed. Q12's columns as "nodes".
# base: solution
# expect lost: 1
# expect dJdW1: wrong 0
# expect diagnosis dJdW1: dJdW1.transposed
# expect feedback dJdW1: Right numbers, transposed: dJ/dW(1)
# expect other diagnoses: none
# expect a2_rows_and_columns: passed 1
# expect cost_function_prime: passed 2
# Part 4 -- backpropagation
# Q17 took me a while: delta2 first, then dJdW1 from X


A2_ROWS = "examples"


A2_COLUMNS = "nodes"


def dJdW1(X, delta2):
    # same pattern as dJdW2 = a2^T delta3, with X in place of a2
    # print(delta2.shape, X.shape)
    return np.dot(delta2.T, X)


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)
