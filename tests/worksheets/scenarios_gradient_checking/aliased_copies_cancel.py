# "Copies" made by assignment, both pushed before J is computed: one array, pushed up then back
# down, so J is the same both times and every entry is 0.
# base: solution
# expect lost: 3
# expect numerical_gradient: wrong 0
# expect diagnosis numerical_gradient: numerical_gradient.pushes_cancel
# expect feedback numerical_gradient: Every entry is 0
# expect other diagnoses: none


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    params = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params.size)
    for p in range(params.size):
        params_plus = params
        params_minus = params
        params_plus[p] = params[p] + epsilon
        params_minus[p] = params[p] - epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(params_plus, *sizes))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(params_minus, *sizes))[3]))
        numgrad[p] = (J_plus - J_minus) / (2 * epsilon)
    #print(numgrad)
    return numgrad
