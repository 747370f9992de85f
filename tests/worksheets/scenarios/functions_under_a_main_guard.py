# Functions written under `if __name__ == "__main__":`, which does not run when the grader
# imports the file: the feedback says so, and where, rather than "not defined".
# base: none
# expect status: graded
# expect score: 0
# expect sigmoid_prime: missing 0
# expect feedback sigmoid_prime: not defined when graded: your sigmoid_prime at line 14 is inside
# expect feedback sigmoid_prime: `if __name__ == "__main__":` (line 13), which does not run when the grader imports your file
# expect feedback cost: not defined: write a function named cost
import numpy as np


if __name__ == "__main__":
    def sigmoid_prime(z):
        return np.exp(-z) / (1 + np.exp(-z)) ** 2

    print(sigmoid_prime(np.zeros(3)))
