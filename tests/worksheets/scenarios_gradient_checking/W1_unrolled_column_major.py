# W1 alone unrolled column by column (order='F'), and rolled back the same way: W2, one column
# on every case but random 3 (two outputs), reads the same either way. Both are right only on
# Q16 (every weight 1) and named. compute_gradients unrolls on its own, row by row: right.
# numerical_gradient, built on the student's own get_params and set_params, is right given
# them on every case: credit carried forward (the trace of its inner calls holds the 151 calls
# of the seeded network with 25 weights; at 64 it was carried on 3 of 5 cases only).
# base: solution
# expect get_params: wrong 0.2
# expect diagnosis get_params: get_params.W1_column_major
# expect set_params: wrong 0.2
# expect diagnosis set_params: set_params.W1_column_major
# expect compute_gradients: passed 2
# expect numerical_gradient: passed 3
# expect feedback numerical_gradient: right given your own get_params (Q1-Q2) and set_params (Q3)
# expect relative_error: passed 1
# expect other diagnoses: none


# --- Part 5 ---
def get_params(W1, W2):
    # W1 first, then W2 (W2 is a column already)
    return np.concatenate((W1.ravel(order='F'), W2.ravel()))


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    W1_start = 0
    W1_end = hidden_layer_size * input_layer_size
    W1 = np.reshape(params[W1_start:W1_end], (input_layer_size, hidden_layer_size), order='F')
    W2_end = W1_end + hidden_layer_size * output_layer_size
    W2 = np.reshape(params[W1_end:W2_end], (hidden_layer_size, output_layer_size))
    return W1, W2


def compute_gradients(X, y, W1, W2):
    dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
    return np.concatenate((dJdW1.ravel(), dJdW2.ravel()))


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
        numgrad[p] = (loss2 - loss1) / (2 * epsilon)

        # return the value we changed to zero
        perturb[p] = 0

    return numgrad
