# Issue 27, 6 (teacher's review): set_params(plus, 2, 3, 1), numbers written in for the worksheet's
# network. Said as the same values on every case, never as a swap (the literals happen to equal
# a seeded network's sizes in another order).
# base: solution
# expect feedback numerical_gradient: passes the same input_layer_size, hidden_layer_size and output_layer_size to set_params on every case
# expect unsaid numerical_gradient: where it takes


def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    W1_end = input_layer_size * hidden_layer_size
    W1 = params[:W1_end].reshape(input_layer_size, hidden_layer_size)
    W2 = params[W1_end:W1_end + hidden_layer_size * output_layer_size].reshape(hidden_layer_size, output_layer_size)
    return W1, W2


def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    params = get_params(W1, W2)
    # network is 2-3-1
    numgrad = np.zeros(len(params))
    for k in range(len(params)):
        plus = params.copy()
        plus[k] += epsilon
        minus = params.copy()
        minus[k] -= epsilon
        J_plus = np.sum(cost(y, forward(X, *set_params(plus, 2, 3, 1))[3]))
        J_minus = np.sum(cost(y, forward(X, *set_params(minus, 2, 3, 1))[3]))
        numgrad[k] = (J_plus - J_minus) / (2 * epsilon)
    return numgrad
