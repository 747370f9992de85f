# Issue 27, 6 (teacher's review): forward has a bug of its own (z3 from z2), and compute_gradients
# and numerical_gradient each divide by the number of examples. The division is theirs, not
# forward's: said so, not 'does your forward divide by the number of examples already?'.
# base: none
# expect feedback numerical_gradient: your numerical_gradient divides by the number of examples, where the worksheet's J is a sum
# expect unsaid numerical_gradient: does your forward
#!/usr/bin/env python
# coding: utf-8

# # Gradient checking (Part 5)
# Zoe A. (v2: I average the gradients over the examples, like in my ML class)

# In[1]:


get_ipython().run_line_magic('pylab', 'inline')


# In[2]:


# my part 4 code
def sigmoid(z):
    return 1/(1+exp(-z))

def sigmoid_prime(z):
    return exp(-z)/((1+exp(-z))**2)

def forward(X, W1, W2):
    z2 = dot(X, W1)
    a2 = sigmoid(z2)
    z3 = dot(z2, W2)       # hidden layer -> output
    yHat = sigmoid(z3)
    return z2, a2, z3, yHat

def cost(y, yHat):
    J = 0.5*sum((y-yHat)**2)
    return J

def cost_function_prime(X, y, W1, W2):
    z2, a2, z3, yHat = forward(X, W1, W2)
    delta3 = multiply(-(y-yHat), sigmoid_prime(z3))
    dJdW2 = dot(a2.T, delta3)
    delta2 = dot(delta3, W2.T)*sigmoid_prime(z2)
    dJdW1 = dot(X.T, delta2)
    return dJdW1, dJdW2


# In[3]:


def get_params(W1, W2):
    return concatenate((W1.ravel(), W2.ravel()))

def set_params(params, input_layer_size, hidden_layer_size, output_layer_size):
    W1_end = hidden_layer_size * input_layer_size
    W1 = reshape(params[:W1_end], (input_layer_size, hidden_layer_size))
    W2_end = W1_end + hidden_layer_size*output_layer_size
    W2 = reshape(params[W1_end:W2_end], (hidden_layer_size, output_layer_size))
    return W1, W2

def compute_gradients(X, y, W1, W2):
    m = X.shape[0]
    dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
    return concatenate((dJdW1.ravel(), dJdW2.ravel())) / m

def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    paramsInitial = get_params(W1, W2)
    numgrad = zeros(paramsInitial.shape)
    perturb = zeros(paramsInitial.shape)
    i, h, o = W1.shape[0], W1.shape[1], W2.shape[1]
    for p in range(len(paramsInitial)):
        perturb[p] = epsilon
        loss2 = cost(y, forward(X, *set_params(paramsInitial + perturb, i, h, o))[3])
        loss1 = cost(y, forward(X, *set_params(paramsInitial - perturb, i, h, o))[3])
        numgrad[p] = (loss2 - loss1) / (2*epsilon) / X.shape[0]   # average over examples
        perturb[p] = 0
    return numgrad

def relative_error(grad, numgrad):
    return norm(grad-numgrad)/norm(grad+numgrad)


# In[4]:


X = array(([3,5],[5,1],[10,2]), dtype=float)
X = X/amax(X, axis=0)
y = array(([75],[82],[93]), dtype=float)/100
W1 = array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
W2 = array([[0.7], [0.8], [0.9]])
grad = compute_gradients(X, y, W1, W2)
numgrad = numerical_gradient(X, y, W1, W2)
print(relative_error(grad, numgrad))
bar(arange(len(grad)), grad)
