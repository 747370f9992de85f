# A missing function scores 0 with "not defined".
# base: solution
# expect score: 19
# expect dz3dW2: missing 0
# expect feedback dz3dW2: not defined

del dz3dW2
