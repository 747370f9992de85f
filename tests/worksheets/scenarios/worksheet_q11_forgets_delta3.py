# The filled-in worksheet's Q11: dJ/dW2 = (a2)^T, the backpropagating error forgotten.
# cost_function_prime calls it and is otherwise right: its credit is carried forward.
# base: solution
# expect status: graded
# expect lost: 2
# expect dJdW2: wrong 0
# expect diagnosis dJdW2: dJdW2.missing_delta3
# expect feedback dJdW2: The backpropagating error delta(3) is left out
# expect cost_function_prime: passed 2
# expect feedback cost_function_prime: right given your own dJdW2 (Q11, Q14-Q16), which is wrong


def dJdW2(a2, delta3):
    return a2.T
