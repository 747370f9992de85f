# Issue 27, 2: a correct file whose sigmoid uses a package not installed where grading runs
# (torch here; scipy.special.expit in the teacher's file). The code could not run here: forward
# says so and why, nothing downstream is called wrong or told to fix anything.
# base: solution
# expect status: graded
# expect lost: 1
# expect forward: raised 0
# expect feedback forward: could not run here
# expect feedback forward: torch is not installed where this is graded
# expect unsaid forward: is wrong
# expect cost_function_prime: passed 2
# expect feedback cost_function_prime: could not run here only because your forward
# expect unsaid cost_function_prime: fix forward
# expect unsaid cost_function_prime: is wrong
from torch import sigmoid as torch_sigmoid


def sigmoid(z):
    return torch_sigmoid(z)
