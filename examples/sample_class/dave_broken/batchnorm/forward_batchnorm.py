"""Batch normalisation forward pass (sample student: a file that does not even import)."""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param)
    mean = x.mean(axis=0)
    return (x - mean) / np.sqrt(x.var(axis=0) + 1e-5), None
