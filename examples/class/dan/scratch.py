# Dan's scratch work, handed in by mistake alongside backprop.py.
import numpy as np

print(np.ones((2, 3)).T.shape)
