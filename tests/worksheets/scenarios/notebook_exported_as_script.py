# A notebook downloaded as .py (nbconvert --to script): its magics became get_ipython() calls,
# which are not run (as the grader does for magics in a notebook), but %pylab is honoured as in
# a notebook, and everything is graded.
# base: none
# (no total: what this file earns is the questions below, whatever else the worksheet asks)
# expect forward: passed 1
# expect note: IPython call not run: line 16: get_ipython().system('pip install numpy')
#!/usr/bin/env python
# coding: utf-8

# In[1]:


get_ipython().run_line_magic('pylab', 'inline')
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().system('pip install numpy')


# In[2]:


def forward(X, W1, W2):
    z2 = dot(X, W1)
    a2 = 1 / (1 + exp(-z2))
    z3 = np.dot(a2, W2)
    plot(z3)
    return z2, a2, z3, 1 / (1 + exp(-z3))
