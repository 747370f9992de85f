# Issue 27, 6: every piece right, one wire wrong: cost_function_prime passes z3 where delta2
# takes z2. Named from the recorded call, argument by argument; delta2 keeps its marks.
# base: solution
# expect status: graded
# expect lost: 2
# expect cost_function_prime: raised 0
# expect feedback cost_function_prime: passes z3 to delta2 where it takes z2
# expect delta2: passed 2


def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z3)  # the hidden layer's delta
    return dJdW1(X, d2), dJdW2(a2, d3)
