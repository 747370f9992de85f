# "Copies" made by assignment: params_plus = params, pushed up, J; params_minus = params, pushed
# down, J. One array: J is compared at w + e and at w itself, over 2e, so each entry is about
# half the gradient (half the one-sided difference, exactly).
# base: solution
# expect lost: 3
# expect numerical_gradient: wrong 0
# expect diagnosis numerical_gradient: numerical_gradient.aliased_copies
# expect feedback numerical_gradient: `params_plus = params` copies nothing
# expect other diagnoses: none


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    params = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params.size)
    for p in range(params.size):
        params_plus = params            # copy of the weights, pushed up
        params_plus[p] += epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(params_plus, *sizes))[3]))

        params_minus = params           # copy of the weights, pushed down
        params_minus[p] -= epsilon
        J_minus = np.sum(cost(y, forward(X, *set_params(params_minus, *sizes))[3]))

        numgrad[p] = (J_plus - J_minus) / (2 * epsilon)
    return numgrad
