# Issue 27, 3: a loop over range(3) hidden units is right only where there are 3: the hint is
# true and names the size.
# base: solution
# expect status: graded
# expect lost: 2
# expect dJdW2: raised 0
# expect feedback dJdW2: as if sized for 3 hidden units (wrong with 4, 2 and 5)
# expect feedback dJdW2: no points for it, and your instructor is told
# expect cost_function_prime: passed 2


def dJdW2(a2, delta3):
    out = np.zeros((3, delta3.shape[1]))
    for j in range(3):  # one row per hidden unit
        out[j] = np.dot(a2[:, j], delta3)
    return out
