# Under %pylab, `sum` is numpy's sum (axis None), not Python's: the series' cost
# 0.5*sum((y-yHat)**2) adds up the outputs too, the scalar total the worksheet accepts beside
# the per-output row (issue 27, 4: the notebook scores as its .py does); dJdW2 as sum() of the
# per-example gradients, which Python's sum would add along axis 0, is one number on every
# case: named, and the feedback mentions %pylab.
# base: none
# expect lost: 2
# expect cost: passed 1
# expect dJdW2: wrong 0
# expect diagnosis dJdW2: dJdW2.summed_to_a_number
# expect feedback dJdW2: Under %pylab
# expect other diagnoses: none
# expect cost_function_prime: passed 2
#!/usr/bin/env python
# coding: utf-8

# # Part 4: Backpropagation

# In[1]:


get_ipython().run_line_magic('pylab', 'inline')


# In[2]:


def sigmoid(z):
    return 1/(1+exp(-z))

def sigmoid_prime(z):
    return exp(-z)/((1+exp(-z))**2)

testValues = arange(-5,5,0.01)
plot(testValues, sigmoid(testValues), linewidth=2)
plot(testValues, sigmoid_prime(testValues), linewidth=2)
grid(1)
legend(['sigmoid', 'sigmoid_prime'])


# In[3]:


def forward(X, W1, W2):
    z2 = dot(X, W1)
    a2 = sigmoid(z2)
    z3 = dot(a2, W2)
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat

def cost(y, yHat):
    # as in the video: J = 0.5*sum((y-yHat)**2)
    return 0.5*sum((y-yHat)**2)


# In[4]:


def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (input_layer_size, hidden_layer_size)

def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (hidden_layer_size, output_layer_size)

def dJdyHat(y, yHat):
    return -(y-yHat)

def delta3_shape(num_examples, output_layer_size):
    return (num_examples, output_layer_size)

def delta3(y, yHat, z3):
    return multiply(-(y-yHat), sigmoid_prime(z3))


# In[5]:


A2_ROWS = 'examples'
A2_COLUMNS = 'hidden units'

def dz3dW2(a2):
    return a2.T

def per_example_dJdW2(a2, delta3):
    # one outer product per example (Q3), stacked
    return array([outer(a2[i], delta3[i]) for i in range(len(a2))])

def dJdW2(a2, delta3):
    # Q14: "we need to add across our examples"
    return sum(per_example_dJdW2(a2, delta3))


# In[6]:


def delta2(delta3, W2, z2):
    return dot(delta3, W2.T)*sigmoid_prime(z2)

def dJdW1(X, delta2):
    return dot(X.T, delta2)

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    d3 = delta3(y, yHat, z3)
    d2 = delta2(d3, W2, z2)
    return dJdW1(X, d2), dJdW2(a2, d3)
