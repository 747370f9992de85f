# The series' computeNumericalGradient, with the division by 2 epsilon left out: every entry
# is the change in J, 2e-4 times the slope.
# base: solution
# expect lost: 3
# expect numerical_gradient: wrong 0
# expect diagnosis numerical_gradient: numerical_gradient.not_divided
# expect feedback numerical_gradient: is a change in J, not a slope
# expect other diagnoses: none


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    params_initial = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params_initial.shape)
    perturb = np.zeros(params_initial.shape)

    for p in range(len(params_initial)):
        # set perturbation vector
        perturb[p] = epsilon
        loss2 = np.sum(cost(y, forward(X, *set_params(params_initial + perturb, *sizes))[3]))
        loss1 = np.sum(cost(y, forward(X, *set_params(params_initial - perturb, *sizes))[3]))

        # compute numerical gradient
        numgrad[p] = loss2 - loss1  # change in J for this weight

        # return the value we changed to zero
        perturb[p] = 0

    return numgrad
