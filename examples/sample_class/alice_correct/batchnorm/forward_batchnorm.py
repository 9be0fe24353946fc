"""Batch normalisation forward pass (sample student: correct, written with column loops)."""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    n, d = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))

    if mode not in ("train", "test"):
        raise ValueError("mode must be 'train' or 'test'")
    out = np.empty_like(x)
    if mode == "train":
        mean = np.mean(x, axis=0, keepdims=True)
        var = np.mean((x - mean) ** 2, axis=0, keepdims=True)
        for j in range(d):
            out[:, j] = gamma[j] * (x[:, j] - mean[0, j]) / np.sqrt(var[0, j] + eps) + beta[j]
        running_mean = momentum * running_mean + (1 - momentum) * mean[0]
        running_var = momentum * running_var + (1 - momentum) * var[0]
    else:
        for j in range(d):
            out[:, j] = gamma[j] * (x[:, j] - running_mean[j]) / np.sqrt(running_var[j] + eps) + beta[j]

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, (x, gamma, beta, eps)
