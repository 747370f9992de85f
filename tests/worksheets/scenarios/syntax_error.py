# A file Python cannot compile is not graded, and the message names the line.
# base: none
# expect status: error
# expect error: SyntaxError
# expect error: (line 8)
import numpy as np

def forward(X, W1, W2)
    return X
