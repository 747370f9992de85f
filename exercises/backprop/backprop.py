"""Backpropagation guided notes: your answers.

Fill in one function per guided question.

Check your work as you go with backprop_check.py, the self-check file your instructor hands
out (it needs numpy only): it checks each function on the worksheet's numbers and on practice
networks of other sizes, and says what is wrong; your grade comes from the grader, on more
cases. Put it beside this file and run

    python backprop_check.py backprop.py

Shapes follow the worksheet's table: X is (numExamples, inputLayerSize), y is
(numExamples, outputLayerSize), W1 is (inputLayerSize, hiddenLayerSize) and W2 is
(hiddenLayerSize, outputLayerSize). Inputs are numpy arrays; return numpy arrays (or
anything numpy can read) for arrays, and a tuple of ints for a dimension.
"""

import numpy as np


def sigmoid(z):
    """The activation f(z) = 1 / (1 + e^(-z)), applied elementwise. Given."""
    return 1 / (1 + np.exp(-z))


def forward(X, W1, W2):
    """Forward equations (1)-(4).

    z(2) = X W(1),  a(2) = f(z(2)),  z(3) = a(2) W(2),  yHat = f(z(3)).

    Return the tuple (z2, a2, z3, yHat); z2 and a2 have shape (numExamples, hiddenLayerSize),
    z3 and yHat have shape (numExamples, outputLayerSize).
    """
    raise NotImplementedError


def cost(y, yHat):
    """Equation (5): J = sum of 1/2 (y - yHat)^2.

    The worksheet's table gives J the dimension (1, outputLayerSize): sum over the examples,
    one cost per output. (For one output, a plain number is accepted.)
    """
    raise NotImplementedError


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    """Q1. "The dimension of dJ/dW(1) is ___."

    Return the dimension as a tuple of ints, for any layer sizes.
    """
    raise NotImplementedError


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    """Q2. "The dimension of dJ/dW(2) is ___."

    Return the dimension as a tuple of ints, for any layer sizes.
    """
    raise NotImplementedError


def dJdyHat(y, yHat):
    """Q4. "Using the chain rule, derive an expression for dJ/dW(2) in terms of y, yHat and
    dyHat/dW(2)." Its first factor: dJ/dyHat for J = sum of 1/2 (y - yHat)^2.

    Return dJ/dyHat, one entry per example and output: the shape of y.
    """
    raise NotImplementedError


def per_example_dJdW2(a2, delta3):
    """Q3, Q14. "Use the sum rule for differentiation to move the summation outside the
    gradient." Each example contributes its own dJ/dW(2); the sum of them is dJ/dW(2).

    Return every example's own dJ/dW(2), stacked: shape (numExamples, hiddenLayerSize,
    outputLayerSize), entry i being example i's. Summed over axis 0, it is dJ/dW(2).
    """
    raise NotImplementedError


def sigmoid_prime(z):
    """Q6. "yHat and z(3) are connected by our sigmoid activation function f(z) = 1/(1 + e^(-z)).
    dyHat/dz(3) = f'(z) = ___"

    Return f'(z) elementwise: an array of the same shape as z.
    """
    raise NotImplementedError


def delta3_shape(num_examples, output_layer_size):
    """Q7, Q13. "What is the dimension of delta(3)?"

    Return the dimension as a tuple of ints, for any number of examples and outputs.
    """
    raise NotImplementedError


def delta3(y, yHat, z3):
    """The "backpropagating error" introduced after Q6: delta(3) = -(y - yHat) f'(z(3)).

    Use your sigmoid_prime. Shape (numExamples, outputLayerSize).
    """
    raise NotImplementedError


# Q12. "What do the rows and columns of your "a" matrix represent?" (z(3) = a(2) W(2), with
# numExamples = 3.) Set each to one of: "examples", "hidden units", "input features", "outputs".
A2_ROWS = None
A2_COLUMNS = None


def dz3dW2(a2):
    """Q9, Q10. "Now, write dz(3)/dW(2) in terms of the vector a(2)."

    a2 holds one example: shape (1, hiddenLayerSize). Return dz(3)/dW(2), shape
    (hiddenLayerSize, 1).
    """
    raise NotImplementedError


def dJdW2(a2, delta3):
    """Q11, Q14-Q16. "Now express the above operation in terms of the matrix a(2) and the
    vector delta(3)." dJ/dW(2), summed over the examples.

    a2 is (numExamples, hiddenLayerSize), delta3 is (numExamples, outputLayerSize). Return
    shape (hiddenLayerSize, outputLayerSize), the shape of W2.
    """
    raise NotImplementedError


def delta2(delta3, W2, z2):
    """Q17. "Derive an expression for dJ/dW(1) by continuing to propagate errors backwards
    through our network." First the backpropagating error of the hidden layer, delta(2).

    Return shape (numExamples, hiddenLayerSize).
    """
    raise NotImplementedError


def dJdW1(X, delta2):
    """Q17, continued: dJ/dW(1) from X and delta(2).

    Return shape (inputLayerSize, hiddenLayerSize), the shape of W1.
    """
    raise NotImplementedError


def cost_function_prime(X, y, W1, W2):
    """Your Mission: "dJ/dW(1) = ?  dJ/dW(2) = ?"

    Put it all together: run the forward pass, then backpropagate. Return the tuple
    (dJdW1, dJdW2), with the shapes of W1 and W2.
    """
    raise NotImplementedError
