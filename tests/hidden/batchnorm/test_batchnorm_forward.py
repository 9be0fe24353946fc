"""Hidden grading of forward_batchnorm.py against torch as an independent reference.

Conventions differ and are bridged here, not copied: torch's ``momentum`` is the weight of
the new batch (ours weighs the old running value) and torch updates running_var with the
unbiased variance, so running statistics are compared with a biased torch.var.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hwtools import budget
from hwtools.checks import CheckFailure, assert_close, assert_equal_number, assert_unchanged
from hwtools.grading import kit

torch.set_num_threads(1)
SHAPES = [(8, 3), (50, 7), (4, 20), (200, 1)]
F64 = dict(rtol=1e-6, atol=1e-8)
F32 = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def bn(student):
    return student("forward_batchnorm.py", timeout_s=budget.budget("batchnorm")["hidden_call_timeout_s"])


def reference_train(x, gamma, beta, eps=1e-5):
    t = torch.from_numpy(np.asarray(x, dtype=np.float64))
    out = F.batch_norm(t, None, None, torch.from_numpy(gamma.astype(np.float64)),
                       torch.from_numpy(beta.astype(np.float64)), training=True, eps=eps)
    return out.numpy(), t.mean(0).numpy(), t.var(0, correction=0).numpy()


def reference_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    as64 = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))
    return F.batch_norm(as64(x), as64(running_mean), as64(running_var), as64(gamma), as64(beta),
                        training=False, eps=eps).numpy()


def mode_slip_hint(out, x, gamma, beta, running_mean, running_var) -> str:
    """What a wrong test-mode output matches instead, when it is a known slip."""
    slips = {"without eps (eps belongs inside the square root in test mode too)":
             reference_test(x, gamma, beta, running_mean, running_var, eps=0.0),
             "with the batch's own statistics instead of bn_param's running ones":
             reference_train(x, gamma, beta)[0]}
    for slip, values in slips.items():
        if np.allclose(out, values, **F64):
            return f". It matches the formula {slip}"
    return ""


def run_forward(bn, x, gamma, beta, bn_param):
    """Call the student's function; return out and bn_param as they were after the call, once
    they keep the contract: (out, cache) with out a finite array of x's shape, bn_param a dict."""
    call = bn.call("batchnorm_forward", x, gamma, beta, bn_param)
    out, _ = kit.returned_tuple(call.value, 2, "batchnorm_forward", "(out, cache)")
    out = kit.returned_array(out, "out", shape=np.shape(x), shape_note="the shape of x, (N, D)")
    param = call.args_after[3]
    if not isinstance(param, dict):
        raise kit.ContractBroken("bn_param", "stay a dict", kit.describe(param))
    return out, param, call


def running_statistic(param, key, d, when):
    """bn_param[key] after train steps, by the contract: an array of shape (D,)."""
    if key not in param:
        raise kit.ContractBroken("bn_param", f"hold {key!r} after {when}", f"no {key!r} (keys {sorted(param)})")
    return kit.returned_array(param[key], f"bn_param[{key!r}] after {when}", shape=(d,),
                              shape_note="(D,), one value per feature")


def random_layer(rng, n, d, dtype=np.float64):
    x = (rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d) * 2).astype(dtype)
    gamma = rng.uniform(0.5, 2.0, size=d).astype(dtype)
    beta = rng.normal(size=d).astype(dtype)
    return x, gamma, beta


@pytest.mark.points(2, group="hidden_train_forward")
def test_train_output_float64(bn, rng):
    """train mode: out = gamma * (x - mean) / sqrt(var + eps) + beta, mean and biased var over the batch (axis 0), float64"""
    for n, d in SHAPES:
        x, gamma, beta = random_layer(rng, n, d)
        out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
        assert_close(out, reference_train(x, gamma, beta)[0], name=f"out for x of shape {(n, d)}", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_output_float32(bn, rng):
    """train mode, float32 inputs: the same normalisation (axis 0, biased var, eps), within float32 tolerance"""
    for n, d in SHAPES[:3]:
        x, gamma, beta = random_layer(rng, n, d, np.float32)
        out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
        assert_close(out, reference_train(x, gamma, beta)[0], name=f"float32 out for shape {(n, d)}", **F32)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_tiny_variance(bn, rng):
    """train mode: eps inside the square root, sqrt(var + eps), on features whose variance is far below eps"""
    x, gamma, beta = random_layer(rng, 16, 4)
    x = x.mean(0) + (x - x.mean(0)) * 1e-5  # variances around 1e-10 .. 1e-9
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train", "eps": 1e-5})
    assert_close(out, reference_train(x, gamma, beta, 1e-5)[0], name="out for near-constant features", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_large_offset(bn, rng):
    """train mode: features with a large common offset (1e4): the variance is taken around the batch mean"""
    x, gamma, beta = random_layer(rng, 32, 5)
    x = x + 1e4
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
    assert_close(out, reference_train(x, gamma, beta)[0], name="out for offset features", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_batch_of_one(bn, rng):
    """train mode, a batch of one: x - mean is zero and eps keeps sqrt(var + eps) finite, so out is beta"""
    x, gamma, beta = random_layer(rng, 1, 6)
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
    assert_close(out, beta[None, :], rtol=0, atol=1e-9, name="out for a batch of one")


@pytest.mark.points(2, group="hidden_running_stats")
def test_running_stats_first_step(bn, rng):
    """train mode, momentum 0.9: running_mean/var start at zeros of shape (D,) and become (1 - momentum) * batch mean/biased var"""
    x, gamma, beta = random_layer(rng, 30, 4)
    _, param, _ = run_forward(bn, x, gamma, beta, {"mode": "train", "momentum": 0.9})
    _, mean, var = reference_train(x, gamma, beta)
    for key, expected in (("running_mean", 0.1 * mean), ("running_var", 0.1 * var)):
        found = running_statistic(param, key, 4, "one train step")
        assert_close(found, expected, name=f"bn_param[{key!r}] after one step", **F64)


@pytest.mark.points(1, group="hidden_running_stats")
def test_running_stats_several_steps(bn, rng):
    """train mode, momentum 0.7: running = momentum * running + (1 - momentum) * batch statistic over 4 steps, shape (D,)"""
    param = {"mode": "train", "momentum": 0.7}
    expected_mean = expected_var = np.zeros(5)
    for _ in range(4):
        x, gamma, beta = random_layer(rng, 20, 5)
        _, param, _ = run_forward(bn, x, gamma, beta, param)
        _, mean, var = reference_train(x, gamma, beta)
        expected_mean = 0.7 * expected_mean + 0.3 * mean
        expected_var = 0.7 * expected_var + 0.3 * var
    assert_close(running_statistic(param, "running_mean", 5, "4 train steps"), expected_mean,
                 name="running_mean after 4 steps", **F64)
    assert_close(running_statistic(param, "running_var", 5, "4 train steps"), expected_var,
                 name="running_var after 4 steps", **F64)


@pytest.mark.points(2, group="hidden_test_mode")
def test_test_mode_uses_running_stats(bn, rng):
    """test mode: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta with bn_param's statistics and eps"""
    for n, d in SHAPES[:3]:
        x, gamma, beta = random_layer(rng, n, d)
        running_mean, running_var = rng.normal(size=d), rng.uniform(0.2, 4.0, size=d)
        param = {"mode": "test", "running_mean": running_mean, "running_var": running_var}
        out, _, _ = run_forward(bn, x, gamma, beta, param)
        expected = reference_test(x, gamma, beta, running_mean, running_var)
        try:
            assert_close(out, expected, name=f"test-mode out for shape {(n, d)}", **F64)
        except CheckFailure as failure:
            raise CheckFailure(f"{failure}{mode_slip_hint(out, x, gamma, beta, running_mean, running_var)}") from None


@pytest.mark.points(1, group="hidden_test_mode")
def test_train_steps_then_test(bn, rng):
    """train 3 steps, then test mode normalises with the running averages those steps stored in bn_param (and eps)"""
    param = {"mode": "train"}
    for _ in range(3):
        x, gamma, beta = random_layer(rng, 25, 3)
        _, param, _ = run_forward(bn, x, gamma, beta, param)
    if "running_mean" not in param or "running_var" not in param:
        raise kit.ContractBroken("bn_param", "hold 'running_mean' and 'running_var' after train steps",
                                 f"the keys {sorted(param)}")
    # the running statistics' own shape is graded by the running-stats checks; here only what
    # test mode does with them counts, so (1, D) stands for (D,) and the reference never crashes
    stats = [kit.same_values_as(kit.returned_array(param[key], f"bn_param[{key!r}] after 3 train steps"), (3,),
                                f"bn_param[{key!r}] after 3 train steps on 3 features")
             for key in ("running_mean", "running_var")]
    x, gamma, beta = random_layer(rng, 7, 3)
    out, _, _ = run_forward(bn, x, gamma, beta, dict(param, mode="test"))
    expected = reference_test(x, gamma, beta, stats[0], stats[1])
    assert_close(out, expected, name="test-mode out", **F64)


@pytest.mark.points(1, group="hidden_contract")
def test_input_not_modified(bn, rng):
    """x is not modified in place (work on a copy) and train-mode out is still right"""
    x, gamma, beta = random_layer(rng, 12, 4)
    out, _, call = run_forward(bn, x.copy(), gamma, beta, {"mode": "train"})
    assert_unchanged(x, call.args_after[0], name="x")
    assert_close(out, reference_train(x, gamma, beta)[0], name="out", **F64)


@pytest.mark.points(1, group="hidden_contract")
def test_unknown_mode_raises_value_error(bn, rng):
    """an unknown mode raises ValueError (counted only when mode 'train' works on the same inputs)"""
    x, gamma, beta = random_layer(rng, 5, 2)
    kit.expect_error(bn, "batchnorm_forward", valid=((x, gamma, beta, {"mode": "train"}), {}),
                     invalid=((x, gamma, beta, {"mode": "evaluate"}), {}), error="ValueError",
                     valid_case="mode 'train'", case="mode 'evaluate'")


@pytest.mark.points(1, group="hidden_param_count")
def test_trainable_params_answer(student):
    """bn_trainable_params: Linear(10 -> 20) weights and biases plus batch norm's gamma and beta (running stats are not trained)"""
    oracle = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.BatchNorm1d(20))
    expected = sum(p.numel() for p in oracle.parameters() if p.requires_grad)
    answer = student("batchnorm.ipynb").get("bn_trainable_params")
    assert_equal_number(answer, expected, name="bn_trainable_params")
