# The relative error from plain sums of the entries, signs and all.
# base: solution
# expect lost: 1
# expect relative_error: wrong 0
# expect diagnosis relative_error: relative_error.plain_sum
# expect other diagnoses: none


def relative_error(grad, numgrad):
    return sum(grad - numgrad) / sum(grad + numgrad)
