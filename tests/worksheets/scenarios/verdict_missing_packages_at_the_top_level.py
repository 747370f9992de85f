# Issue 27, 2 (review): a notebook exported as a script that loads its data with pandas and
# plots with seaborn at the top level, neither installed where grading runs. Python would stop
# at the first line that uses pandas; here that code could not run, and the rest runs as it
# would where pandas is: every function is graded (0/20 before), and nothing is called wrong.
# base: none
# expect lost: 0
# expect note: pandas is not installed where this is graded
#!/usr/bin/env python
# coding: utf-8

# # Backprop worksheet -- Fatima N.

# In[1]:


import numpy as np
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt
from autograd import elementwise_grad
import autograd.numpy as anp
sns.set()


# In[2]:


data = pd.DataFrame({"sleep": [3, 5, 10], "study": [5, 1, 2], "score": [75, 82, 93]})
X = data[["sleep", "study"]].values.astype(float)
X = X / X.max(axis=0)
y = data[["score"]].values / 100


# In[3]:


def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def sigmoid_a(z):
    return 1 / (1 + anp.exp(-z))

def forward(X, W1, W2):
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat

def cost(y, yHat):
    return 0.5 * np.sum((y - yHat)**2, axis=0, keepdims=True)

def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)

def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)

def dJdyHat(y, yHat):
    return -(y - yHat)

def per_example_dJdW2(a2, delta3):
    return a2[:, :, np.newaxis] * delta3[:, np.newaxis, :]


# In[4]:


# Q6: I derived it on paper, and autograd agrees
_autograd_sigmoid_prime = elementwise_grad(sigmoid_a)

def sigmoid_prime(z):
    return np.exp(-z) / (1 + np.exp(-z))**2

zs = np.linspace(-5, 5, 11)
print(np.allclose(_autograd_sigmoid_prime(zs), sigmoid_prime(zs)))


# In[5]:


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)

def delta3(y, yHat, z3):
    return -(y - yHat) * sigmoid_prime(z3)

A2_ROWS = "examples"
A2_COLUMNS = "hidden units"

def dz3dW2(a2):
    return a2.T

def dJdW2(a2, delta3):
    return np.dot(a2.T, delta3)

def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T) * sigmoid_prime(z2)

def dJdW1(X, delta2):
    return np.dot(X.T, delta2)

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)


# In[6]:


sns.heatmap(cost_function_prime(X, y, np.ones((2, 3)), np.ones((3, 1)))[0])
plt.show()
