# per_example_dJdW2 returns the sum, dJ/dW2 itself, not one gradient per example. Q12's
# columns as "Neurons": a name for the hidden units.
# base: solution
# expect lost: 1
# expect per_example_dJdW2: wrong 0
# expect diagnosis per_example_dJdW2: per_example_dJdW2.summed
# expect feedback per_example_dJdW2: This is dJ/dW(2) itself, already summed over the examples
# expect other diagnoses: none
# expect a2_rows_and_columns: passed 1


def per_example_dJdW2(a2, delta3):
    # Q3: sum rule -> dJ/dW2 = sum over examples of each example's gradient
    # Q14: adding across the examples is the same as a2^T delta3
    total = np.dot(a2.T, delta3)
    return total


A2_ROWS = "Examples"


A2_COLUMNS = "Neurons"
