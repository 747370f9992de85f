# A mistake in one function costs that question and no other. With one example a mean is
# the sum, so the two one-example cases still pass; the mistake is named.
# base: solution
# expect status: graded
# expect lost: 0.6
# expect cost: wrong 0.4
# expect diagnosis cost: cost.mean
# expect feedback cost: This averages over the examples, but equation (5) sums over them

import numpy as np


def cost(y, yHat):
    return 0.5 * np.mean((y - yHat) ** 2, axis=0, keepdims=True)
