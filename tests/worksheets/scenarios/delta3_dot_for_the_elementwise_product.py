# delta3 with np.dot for the elementwise product, in a notebook exported as a script. np.dot of
# two (n, outputs) arrays: right with one example and one output (Q11), "shapes not aligned"
# on Q16 and random 1 and 2, a (3, 3) matrix product on random 3 (3 examples, 3 outputs): named
# from that case.
# base: none
# expect lost: 1.6
# expect delta3: raised 0.4
# expect diagnosis delta3: delta3.dot_product
# expect feedback delta3: np.dot is a matrix product
# expect other diagnoses: none
# expect cost_function_prime: passed 2
#!/usr/bin/env python
# coding: utf-8

# # Backpropagation guided notes
# Name: ______

# In[1]:


import numpy as np


# In[2]:


def sigmoid(z):
    return 1/(1+np.exp(-z))

def sigmoid_prime(z):
    # Q6: derivative of 1/(1+e^-z)
    return np.exp(-z)/((1+np.exp(-z))**2)


# In[3]:


def forward(X, W1, W2):
    z2 = np.dot(X, W1)
    a2 = sigmoid(z2)
    z3 = np.dot(a2, W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat

def cost(y, yHat):
    return 0.5*np.sum((y-yHat)**2, axis=0, keepdims=True)


# In[4]:


# Q1, Q2: gradients have the same dimensions as the weights
def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)

def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)


# In[5]:


def dJdyHat(y, yHat):
    return -(y-yHat)

def per_example_dJdW2(a2, delta3):
    return np.einsum('ij,ik->ijk', a2, delta3)


# In[6]:


def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)

def delta3(y, yHat, z3):
    # delta3 = -(y-yHat) f'(z3)
    return np.dot(-(y-yHat), sigmoid_prime(z3))


# In[7]:


A2_ROWS = "examples"
A2_COLUMNS = "hidden units"

def dz3dW2(a2):
    return a2.T

def dJdW2(a2, delta3):
    return np.dot(a2.T, delta3)


# In[8]:


def delta2(delta3, W2, z2):
    return np.dot(delta3, W2.T)*sigmoid_prime(z2)

def dJdW1(X, delta2):
    return np.dot(X.T, delta2)

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)


# In[9]:


# Q11
X = np.array([[0.3, 1.0]])
y = np.array([[0.75]])
z2, a2, z3, yHat = forward(X, np.ones((2, 3)), np.ones((3, 1)))
delta3(y, yHat, z3)
