# Issue 27, 3: a loop over range(3) hidden units is right only where there are 3: the hint is
# true and names the size. Its answers off the worksheet are its own (a formula's, not a
# table's): it keeps what it earned.
# base: solution
# expect status: graded
# expect lost: 1.2
# expect dJdW2: raised 0.8
# expect feedback dJdW2: right only with 3 hidden units, as on the worksheet, and wrong with 4, 2 and 5
# expect unsaid dJdW2: published
# expect cost_function_prime: passed 2


def dJdW2(a2, delta3):
    out = np.zeros((3, delta3.shape[1]))
    for j in range(3):  # one row per hidden unit
        out[j] = np.dot(a2[:, j], delta3)
    return out
