# The numerical gradient with every weight pushed at once (params + epsilon, a number added to
# the whole vector) on every turn: each entry is the same slope along all the weights.
# base: solution
# expect lost: 3
# expect numerical_gradient: wrong 0
# expect diagnosis numerical_gradient: numerical_gradient.all_at_once
# expect feedback numerical_gradient: Every weight is pushed at the same time
# expect other diagnoses: none


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    """Central difference for every weight."""
    params = get_params(W1, W2)
    i, h, o = W1.shape[0], W1.shape[1], W2.shape[1]
    numgrad = np.zeros(len(params))
    for p in range(len(params)):
        # nudge the weights up by epsilon, then down
        W1_up, W2_up = set_params(params + epsilon, i, h, o)
        W1_down, W2_down = set_params(params - epsilon, i, h, o)
        J_up = np.sum(cost(y, forward(X, W1_up, W2_up)[3]))
        J_down = np.sum(cost(y, forward(X, W1_down, W2_down)[3]))
        numgrad[p] = (J_up - J_down) / (2 * epsilon)
    return numgrad
