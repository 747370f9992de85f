# The relative error with the sum of the entries' sizes (L1) for each vector's size.
# base: solution
# expect lost: 1
# expect relative_error: wrong 0
# expect diagnosis relative_error: relative_error.l1_norm
# expect other diagnoses: none


def relative_error(grad, numgrad):
    # size of a vector = sum of its entries' sizes
    diff = np.sum(np.abs(grad - numgrad))
    total = np.sum(np.abs(grad + numgrad))
    return diff / total
