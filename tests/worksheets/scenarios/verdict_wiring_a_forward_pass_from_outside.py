# Issue 27, 6: the notebook ran a forward pass at the top level, and cost_function_prime uses
# its z2, z3 and yHat instead of its own: right where the case is that network, wrong or
# failing inside a correct function elsewhere. Named: the same values on every case.
# base: solution
# expect status: graded
# expect cost_function_prime: raised 0.4
# expect feedback cost_function_prime: passes the same yHat and z3 to delta3, z2 to delta2 on every case
# expect feedback cost_function_prime: variables from outside the function
# expect delta3: passed 2
# expect delta2: passed 2
# expect dJdW1: passed 1
X = np.array(([3, 5], [5, 1], [10, 2]), dtype=float)
X = X / np.amax(X, axis=0)
y = np.array(([75], [82], [93]), dtype=float) / 100
W1 = np.ones((2, 3))
W2 = np.ones((3, 1))
z2, a2, z3, yHat = forward(X, W1, W2)  # try it on the series' data


def cost_function_prime(X, y, W1, W2):
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)
