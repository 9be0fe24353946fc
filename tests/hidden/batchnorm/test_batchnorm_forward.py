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
from hwtools.grading.student import StudentError

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


def run_forward(bn, x, gamma, beta, bn_param):
    """Call the student's function; return out and bn_param as they were after the call."""
    call = bn.call("batchnorm_forward", x, gamma, beta, bn_param)
    if not isinstance(call.value, (tuple, list)) or len(call.value) != 2:
        raise CheckFailure(f"batchnorm_forward must return (out, cache), got {call.value!r:.80}")
    return call.value[0], call.args_after[3], call


def random_layer(rng, n, d, dtype=np.float64):
    x = (rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d) * 2).astype(dtype)
    gamma = rng.uniform(0.5, 2.0, size=d).astype(dtype)
    beta = rng.normal(size=d).astype(dtype)
    return x, gamma, beta


@pytest.mark.points(2, group="hidden_train_forward")
def test_train_output_float64(bn, rng):
    """train mode: output matches the reference for several (N, D) shapes in float64"""
    for n, d in SHAPES:
        x, gamma, beta = random_layer(rng, n, d)
        out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
        assert_close(out, reference_train(x, gamma, beta)[0], name=f"out for x of shape {(n, d)}", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_output_float32(bn, rng):
    """train mode: output matches the reference for float32 inputs"""
    for n, d in SHAPES[:3]:
        x, gamma, beta = random_layer(rng, n, d, np.float32)
        out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
        assert_close(out, reference_train(x, gamma, beta)[0], name=f"float32 out for shape {(n, d)}", **F32)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_tiny_variance(bn, rng):
    """train mode: features whose variance is far below eps (eps belongs inside the square root)"""
    x, gamma, beta = random_layer(rng, 16, 4)
    x = x.mean(0) + (x - x.mean(0)) * 1e-5  # variances around 1e-10 .. 1e-9
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train", "eps": 1e-5})
    assert_close(out, reference_train(x, gamma, beta, 1e-5)[0], name="out for near-constant features", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_large_offset(bn, rng):
    """train mode: features with a large common offset (1e4)"""
    x, gamma, beta = random_layer(rng, 32, 5)
    x = x + 1e4
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
    assert_close(out, reference_train(x, gamma, beta)[0], name="out for offset features", **F64)


@pytest.mark.points(1, group="hidden_train_forward")
def test_train_batch_of_one(bn, rng):
    """train mode: a batch of one sample is normalised to zero, so the output is beta"""
    x, gamma, beta = random_layer(rng, 1, 6)
    out, _, _ = run_forward(bn, x, gamma, beta, {"mode": "train"})
    assert_close(out, beta[None, :], rtol=0, atol=1e-9, name="out for a batch of one")


@pytest.mark.points(2, group="hidden_running_stats")
def test_running_stats_first_step(bn, rng):
    """train mode: running averages start at zero and take (1 - momentum) of the batch statistics"""
    x, gamma, beta = random_layer(rng, 30, 4)
    _, param, _ = run_forward(bn, x, gamma, beta, {"mode": "train", "momentum": 0.9})
    _, mean, var = reference_train(x, gamma, beta)
    for key, expected in (("running_mean", 0.1 * mean), ("running_var", 0.1 * var)):
        if key not in param:
            raise CheckFailure(f"bn_param has no {key!r} after a train step")
        assert_close(param[key], expected, name=f"bn_param[{key!r}] after one step", **F64)


@pytest.mark.points(1, group="hidden_running_stats")
def test_running_stats_several_steps(bn, rng):
    """train mode: running averages over several steps with momentum 0.7"""
    param = {"mode": "train", "momentum": 0.7}
    expected_mean = expected_var = np.zeros(5)
    for _ in range(4):
        x, gamma, beta = random_layer(rng, 20, 5)
        _, param, _ = run_forward(bn, x, gamma, beta, param)
        _, mean, var = reference_train(x, gamma, beta)
        expected_mean = 0.7 * expected_mean + 0.3 * mean
        expected_var = 0.7 * expected_var + 0.3 * var
    assert_close(param.get("running_mean"), expected_mean, name="running_mean after 4 steps", **F64)
    assert_close(param.get("running_var"), expected_var, name="running_var after 4 steps", **F64)


@pytest.mark.points(2, group="hidden_test_mode")
def test_test_mode_uses_running_stats(bn, rng):
    """test mode: normalises with the running statistics given in bn_param"""
    for n, d in SHAPES[:3]:
        x, gamma, beta = random_layer(rng, n, d)
        running_mean, running_var = rng.normal(size=d), rng.uniform(0.2, 4.0, size=d)
        param = {"mode": "test", "running_mean": running_mean, "running_var": running_var}
        out, _, _ = run_forward(bn, x, gamma, beta, param)
        expected = reference_test(x, gamma, beta, running_mean, running_var)
        assert_close(out, expected, name=f"test-mode out for shape {(n, d)}", **F64)


@pytest.mark.points(1, group="hidden_test_mode")
def test_train_steps_then_test(bn, rng):
    """train for several steps, then test mode uses the averages those steps produced"""
    param = {"mode": "train"}
    for _ in range(3):
        x, gamma, beta = random_layer(rng, 25, 3)
        _, param, _ = run_forward(bn, x, gamma, beta, param)
    running_mean, running_var = param.get("running_mean"), param.get("running_var")
    x, gamma, beta = random_layer(rng, 7, 3)
    out, _, _ = run_forward(bn, x, gamma, beta, dict(param, mode="test"))
    if running_mean is None or running_var is None:
        raise CheckFailure("bn_param has no running statistics after train steps")
    # the running statistics' own shape is graded by the running-stats checks; here only what
    # test mode does with them counts, so (1, D) stands for (D,) and the reference never crashes
    stats = [np.asarray(s, dtype=np.float64) for s in (running_mean, running_var)]
    if any(s.size != 3 for s in stats):
        raise CheckFailure(f"after train steps on 3 features, bn_param's running statistics have shapes "
                           f"{stats[0].shape} and {stats[1].shape}; expected 3 values each")
    expected = reference_test(x, gamma, beta, stats[0].reshape(3), stats[1].reshape(3))
    assert_close(out, expected, name="test-mode out", **F64)


@pytest.mark.points(1, group="hidden_contract")
def test_input_not_modified(bn, rng):
    """x is left untouched and the output is still right"""
    x, gamma, beta = random_layer(rng, 12, 4)
    out, _, call = run_forward(bn, x.copy(), gamma, beta, {"mode": "train"})
    assert_unchanged(x, call.args_after[0], name="x")
    assert_close(out, reference_train(x, gamma, beta)[0], name="out", **F64)


@pytest.mark.points(1, group="hidden_contract")
def test_unknown_mode_raises_value_error(bn, rng):
    """an unknown mode raises ValueError (and the same inputs work in train mode)"""
    x, gamma, beta = random_layer(rng, 5, 2)
    try:  # else the ValueError below could be any crash, not the mode check
        bn.call("batchnorm_forward", x, gamma, beta, {"mode": "train"})
    except StudentError as err:
        raise CheckFailure(f"mode 'train' already fails on these inputs ({str(err)[:200]}), so "
                           "an error for an unknown mode says nothing about mode handling") from None
    try:
        bn.call("batchnorm_forward", x, gamma, beta, {"mode": "evaluate"})
    except StudentError as err:
        if not err.is_a("ValueError"):
            raise CheckFailure(f"mode 'evaluate' raised {err.type_name}, expected ValueError") from None
        return
    raise CheckFailure("mode 'evaluate' raised nothing, expected ValueError")


@pytest.mark.points(1, group="hidden_param_count")
def test_trainable_params_answer(student):
    """bn_trainable_params: trainable parameters of Linear(10 -> 20) followed by batch norm"""
    oracle = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.BatchNorm1d(20))
    expected = sum(p.numel() for p in oracle.parameters() if p.requires_grad)
    answer = student("batchnorm.ipynb").get("bn_trainable_params")
    assert_equal_number(answer, expected, name="bn_trainable_params")
