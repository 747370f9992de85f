# A function deleted by the student's own top-level code scores 0, and the feedback says which
# line deleted it (not just "not defined").
# base: solution
# expect lost: 1
# expect dz3dW2: missing 0
# expect feedback dz3dW2: not defined when graded: line
# expect feedback dz3dW2: deletes your dz3dW2, defined at line

del dz3dW2
