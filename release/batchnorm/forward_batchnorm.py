"""Batch normalisation, forward pass (seed 000, question 6-b).

Complete ``batchnorm_forward``. The signature is the CS231n one:

    out, cache = batchnorm_forward(x, gamma, beta, bn_param)

x: (N, D) data; gamma, beta: (D,) scale and shift; bn_param: a dict with
    mode: 'train' or 'test' (required)
    eps: constant for numeric stability (default 1e-5)
    momentum: weight of the old running statistics (default 0.9)
    running_mean, running_var: (D,) running statistics (start at zeros of x's dtype)

Train mode: normalise with the batch mean and the *biased* batch variance,
    xhat = (x - mean) / sqrt(var + eps),  out = gamma * xhat + beta,
and update, in bn_param,
    running_mean = momentum * running_mean + (1 - momentum) * mean
    running_var  = momentum * running_var  + (1 - momentum) * var.
Test mode: normalise with running_mean and running_var instead.
Any other mode: raise ValueError. Do not modify x in place.
Return ``cache``: whatever a backward pass would need (not graded).
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    # YOUR CODE HERE
    raise NotImplementedError("complete this part (see the docstring)")

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
