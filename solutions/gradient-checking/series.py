"""How the series' own Neural_Network class (partFive.py) answers this worksheet's questions.

This file's text is sent to the student's process and run there (it never runs in the
grader): `adapter` returns a function with the stub's signature for a question, answered by a
fresh instance of the student's class whose weights and sizes come from the call's arguments,
or None when the class can't answer it. The numerical gradient is the series' function
beside the class, computeNumericalGradient(N, X, y), found in the student's namespace.
Only numpy may be imported here.
"""


def adapter(series, question, traced, namespace):
    import numpy as np

    def network(W1=None, W2=None, sizes=None):
        net = series()
        if W1 is not None:
            sizes = (*W1.shape, W2.shape[1])
            net.W1, net.W2 = W1.copy(), W2.copy()
        if sizes is not None:
            net.inputLayerSize, net.hiddenLayerSize, net.outputLayerSize = sizes
        return net

    def forward(X, W1, W2):
        net = network(W1, W2)
        yHat = net.forward(X.copy())
        return net.z2, net.a2, net.z3, yHat

    def cost(y, yHat):  # J of these predictions: the class's forward gives yHat
        net = network()
        net.forward = lambda X: yHat.copy()
        return net.costFunction(np.zeros((len(y), 1)), y.copy())

    def one_number(method):
        """The series' costFunction gives J as an array, one entry per output, which numpy 2
        no longer puts into one entry of numgrad (the series' own line numgrad[p] = ... then
        fails, and with two outputs it always did): read it as the notes define J for
        checking, one number summed over the outputs too."""
        def J(*args):
            return float(np.sum(np.asarray(method(*args), dtype=float)))
        return J

    def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
        # The class's own J first: a student who took its one number themselves ((...)[0],
        # .item()) is graded on their own code; where that raises, J read as one number.
        try:
            return namespace["computeNumericalGradient"](network(W1, W2), X.copy(), y.copy())
        except Exception:
            net = network(W1, W2)
            net.costFunction = one_number(net.costFunction)
            return namespace["computeNumericalGradient"](net, X.copy(), y.copy())

    def weights(net, params):
        net.setParams(params)
        return net.W1, net.W2

    answers = {
        "forward": forward,
        "cost": cost,
        "cost_function_prime": lambda X, y, W1, W2: network(W1, W2).costFunctionPrime(X.copy(), y.copy()),
        "get_params": lambda W1, W2: network(W1, W2).getParams(),
        "set_params": lambda params, i, h, o: weights(network(sizes=(i, h, o)), params.copy()),
        "compute_gradients": lambda X, y, W1, W2: network(W1, W2).computeGradients(X.copy(), y.copy()),
        "numerical_gradient": numerical_gradient,
    }

    if question == "numerical_gradient" and not callable(namespace.get("computeNumericalGradient")):
        return None  # the class alone has no numerical gradient
    return answers.get(question)
