# Issue 27, 1: delta3 returns an np.matrix. Handed one, the (correct) sigmoid_prime's `** 2`
# is a matrix power and raises wherever the matrix is not square; delta2 (correct) is handed it
# inside cost_function_prime and its `*` becomes a matrix product. The blame is delta3's:
# sigmoid_prime and delta2 keep full marks, cost_function_prime's credit is carried from delta3.
# base: solution
# expect status: graded
# expect lost: 1.6
# expect delta3: raised 0.4
# expect feedback delta3: because it was handed an np.matrix
# expect unsaid delta3: hard-coded
# expect sigmoid_prime: passed 2
# expect delta2: passed 2
# expect cost_function_prime: passed 2
# expect feedback cost_function_prime: fails only because your delta3 (Q5, after Q6, Q13) returns an np.matrix
# expect unsaid cost_function_prime: sigmoid_prime
# expect unsaid cost_function_prime: your delta2


def delta3(y, yHat, z3):
    # use matrices so that * is safe
    d = np.matrix(-(y - yHat))
    return np.multiply(d, sigmoid_prime(np.matrix(z3)))
