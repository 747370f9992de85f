"""How the series' own Neural_Network class answers this worksheet's questions.

This file's text is sent to the student's process and run there (it never runs in the
grader): `adapter` returns a function with the stub's signature for a question, answered by a
fresh instance of the student's class whose weights come from the call's own arguments (the
series' class keeps them in attributes), or None when the class can't answer it.
`traced(question_id, function)` wraps a method so that the grader sees it used (credit carried
forward from the class's own sigmoidPrime). Only numpy may be imported here.
"""


def adapter(series, question, traced, namespace):
    import numpy as np

    def network(W1=None, W2=None):
        net = series()
        if W1 is not None:
            net.inputLayerSize, net.hiddenLayerSize = W1.shape
            net.outputLayerSize = W2.shape[1]
            net.W1, net.W2 = W1.copy(), W2.copy()
        if callable(getattr(net, "sigmoidPrime", None)):
            net.sigmoidPrime = traced("sigmoid_prime", net.sigmoidPrime)
        return net

    def forward(X, W1, W2):
        net = network(W1, W2)
        yHat = net.forward(X.copy())
        return net.z2, net.a2, net.z3, yHat

    def sigmoid_prime(z):
        return network().sigmoidPrime(z)

    def cost(y, yHat):  # J of these predictions: the class's forward gives yHat
        net = network()
        net.forward = lambda X: yHat.copy()
        return net.costFunction(np.zeros((len(y), 1)), y.copy())

    def cost_function_prime(X, y, W1, W2):
        return network(W1, W2).costFunctionPrime(X.copy(), y.copy())

    return {"forward": forward, "sigmoid_prime": sigmoid_prime, "cost": cost,
            "cost_function_prime": cost_function_prime}.get(question)
