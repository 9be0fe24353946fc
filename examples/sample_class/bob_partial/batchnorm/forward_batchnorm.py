"""Batch normalisation forward pass (sample student: uses the unbiased variance, ddof=1)."""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0, ddof=1)
        out = gamma * (x - mean) / np.sqrt(var + eps) + beta
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError(mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, None
