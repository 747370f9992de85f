# Issue 27, 6: the student's cost averages over the examples, and numerical_gradient divides by
# the number of examples again on top: named from the recorded calls (what their own cost gives,
# divided by m once more), not just "9 of 9 entries differ".
# base: solution
# expect numerical_gradient: wrong 0.6
# expect feedback numerical_gradient: right given your own cost but for a division by 3 (the number of examples) once more: your cost divides by the number of examples already
# expect get_params: passed 1
# expect compute_gradients: passed 2


def cost(y, yHat):
    # J per example, averaged (so it doesn't grow with the data)
    m = y.shape[0]
    return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True) / m


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    # J is summed over the outputs too: the one number whose gradient cost_function_prime gives.
    params = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(params.shape)
    for p in range(params.size):
        perturb = np.zeros(params.shape)
        perturb[p] = epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))
        numgrad[p] = (J_plus - J_minus) / (2 * epsilon) / X.shape[0]  # average over the examples
    return numgrad
