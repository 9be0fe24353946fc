"""Hidden grading of theory.ipynb: every expected number comes from an oracle run here.

Parameter counts from torch modules built on the meta device, multiply-accumulates from
torch's FLOP counter (two FLOPs per MAC), 'same' cross-correlations from
scipy.signal.correlate2d, GoogLeNet from a torch definition of the paper's table 1. The three
batch-norm statements are judgements, not numbers: their verdicts and reasons are written here
(never released) and shown in the feedback as the checks' titles.
"""
import numpy as np
import pytest
import torch
from scipy.signal import correlate2d
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from hwtools import budget
from hwtools.checks import CheckFailure, assert_close, assert_equal_number

torch.set_num_threads(1)
META = torch.device("meta")
SETTINGS = budget.budget("theory")
LAPLACIAN = np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]])
GOOGLENET_INCEPTIONS = [  # table 1 of Szegedy et al. (2014), as the notebook gives it
    (192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (480, 192, 96, 208, 16, 48, 64),
    (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64), (512, 112, 144, 288, 32, 64, 64),
    (528, 256, 160, 320, 32, 128, 128), (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]


@pytest.fixture(scope="module")
def nb(student):
    return student("theory.ipynb", timeout_s=SETTINGS["hidden_call_timeout_s"])


# Oracles --------------------------------------------------------------------------------

def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def macs(module: nn.Module, input_shape) -> int:
    """Multiply-accumulates of one forward pass, from torch's FLOP counter (2 FLOPs per MAC)."""
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(*input_shape, device=META))
    return counter.get_total_flops() // 2


def sequence_layers(length, input_dim=8, units=16, kernel=3):
    return {"conv1d": nn.Conv1d(input_dim, units, kernel, device=META), "rnn": nn.RNN(input_dim, units, device=META),
            "lstm": nn.LSTM(input_dim, units, device=META), "dense": nn.Linear(length * input_dim, units, device=META)}


def inception(c_in, c1, c3r, c3, c5r, c5, pool_proj, bias=True):
    conv = lambda a, b, k: nn.Conv2d(a, b, k, padding=k // 2, bias=bias, device=META)
    return nn.ModuleList([conv(c_in, c1, 1), nn.Sequential(conv(c_in, c3r, 1), conv(c3r, c3, 3)),
                          nn.Sequential(conv(c_in, c5r, 1), conv(c5r, c5, 5)),
                          nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(c_in, pool_proj, 1))])


def googlenet(bias=True):
    """The network of table 1: stem, nine inception blocks, 1024 -> 1000; no auxiliary classifiers."""
    conv = lambda a, b, k, **kw: nn.Conv2d(a, b, k, bias=bias, device=META, **kw)
    return nn.ModuleList([conv(3, 64, 7, stride=2, padding=3), conv(64, 64, 1), conv(64, 192, 3, padding=1),
                          *(inception(*row, bias=bias) for row in GOOGLENET_INCEPTIONS),
                          nn.Linear(1024, 1000, bias=bias, device=META)])


def call_text(name, *args, **kwargs):
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def value(nb, name, *args, **kwargs):
    return nb.call(name, *args, **kwargs).value


def pair(answer, name):
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        raise CheckFailure(f"{name}: expected (parameters, MACs), got {answer!r:.80}")
    return answer


# 1. CNNs and RNNs -----------------------------------------------------------------------

@pytest.mark.points(1, group="hidden_sequence_params")
def test_conv1d_params(nb, rng):
    """conv1d_params: (c_in * kernel + 1) * c_out, weights and biases of nn.Conv1d, on random layers"""
    for _ in range(SETTINGS["random_configs"]):
        c_in, c_out, kernel = (int(v) for v in rng.integers(1, [65, 129, 12]))
        expected = parameter_count(nn.Conv1d(c_in, c_out, kernel, device=META))
        assert_equal_number(value(nb, "conv1d_params", c_in, c_out, kernel), expected,
                            name=call_text("conv1d_params", c_in, c_out, kernel))


@pytest.mark.points(1, group="hidden_sequence_params")
def test_rnn_params(nb, rng):
    """rnn_params: units * (input_dim + units + 2), nn.RNN's two weight matrices and its two bias vectors (b_ih, b_hh)"""
    for _ in range(SETTINGS["random_configs"]):
        input_dim, units = (int(v) for v in rng.integers(1, [65, 129]))
        expected = parameter_count(nn.RNN(input_dim, units, device=META))
        assert_equal_number(value(nb, "rnn_params", input_dim, units), expected,
                            name=call_text("rnn_params", input_dim, units))


@pytest.mark.points(1, group="hidden_sequence_params")
def test_lstm_params(nb, rng):
    """lstm_params: four gates, 4 * units * (input_dim + units + 2), nn.LSTM's weights and two bias vectors"""
    for _ in range(SETTINGS["random_configs"]):
        input_dim, units = (int(v) for v in rng.integers(1, [65, 129]))
        expected = parameter_count(nn.LSTM(input_dim, units, device=META))
        assert_equal_number(value(nb, "lstm_params", input_dim, units), expected,
                            name=call_text("lstm_params", input_dim, units))


@pytest.mark.points(1, group="hidden_sequence_params")
def test_dense_on_sequence_params(nb, rng):
    """dense_on_sequence_params: (length * input_dim + 1) * units, nn.Linear on the flattened sequence"""
    for _ in range(SETTINGS["random_configs"]):
        length, input_dim, units = (int(v) for v in rng.integers(1, [600, 33, 65]))
        expected = parameter_count(nn.Linear(length * input_dim, units, device=META))
        assert_equal_number(value(nb, "dense_on_sequence_params", length, input_dim, units), expected,
                            name=call_text("dense_on_sequence_params", length, input_dim, units))


@pytest.mark.points(1, group="hidden_sequence_params")
def test_params_depend_on_length(nb):
    """params_depend_on_length: weights shared over time do not grow with the length; a dense layer on the flattened sequence does"""
    short, long = sequence_layers(50), sequence_layers(500)
    answer = nb.get("params_depend_on_length")
    if not isinstance(answer, dict) or set(answer) != set(short):
        raise CheckFailure(f"params_depend_on_length: expected a dict with keys {sorted(short)}, got {answer!r:.120}")
    for layer in sorted(short):
        depends = parameter_count(short[layer]) != parameter_count(long[layer])
        if not isinstance(answer[layer], bool) or answer[layer] != depends:
            raise CheckFailure(f"params_depend_on_length[{layer!r}]: expected {depends} (lengths 50 and 500), "
                               f"got {answer[layer]!r:.40}")


# 2. Batch normalisation: three statements -----------------------------------------------

def check_statement(nb, name, truth):
    answer = nb.get(name)
    if not isinstance(answer, bool):
        raise CheckFailure(f"{name}: expected True or False, got {answer!r:.40}")
    if answer != truth:
        raise CheckFailure(f"{name}: the statement is {'true' if truth else 'false'} (the reason is in this check's title)")


@pytest.mark.points(1, group="hidden_bn_statements")
def test_bn_statement_a(nb):
    """Statement (a) is false: batch norm makes each step slower (statistics, normalisation and their gradients); training gets faster because fewer steps are needed (higher learning rates, better-conditioned layers), not because a batch is processed faster"""
    check_statement(nb, "bn_statement_a", False)


@pytest.mark.points(1, group="hidden_bn_statements")
def test_bn_statement_b(nb):
    """Statement (b) is true: batch norm normalises each feature with the mini-batch's mean and variance (then scales by gamma and shifts by beta), so every dimension of a layer's input has a comparable distribution"""
    check_statement(nb, "bn_statement_b", True)


@pytest.mark.points(1, group="hidden_bn_statements")
def test_bn_statement_c(nb):
    """Statement (c) is false: batch norm makes the network less sensitive to the scale of the initial weights (each layer's input is renormalised), it does not let or make them start near zero"""
    check_statement(nb, "bn_statement_c", False)


# 3. Seed 001, question 1: the Laplacian --------------------------------------------------

@pytest.mark.points(2, group="hidden_laplacian")
def test_correlate_same_random(nb, rng):
    """correlate_same: cross-correlation (kernel not flipped), zero padding (k - 1) / 2 on each side, output of the image's shape, against scipy"""
    for _ in range(SETTINGS["random_configs"]):
        image = rng.normal(size=tuple(int(v) for v in rng.integers(3, 12, size=2)))
        kernel = rng.normal(size=tuple(int(rng.choice([1, 3, 5])) for _ in range(2)))
        expected = correlate2d(image, kernel, mode="same", boundary="fill", fillvalue=0)
        got = value(nb, "correlate_same", image, kernel)
        assert_close(got, expected, rtol=1e-9, atol=1e-9,
                     name=f"correlate_same for an image {image.shape} and a kernel {kernel.shape}")


@pytest.mark.points(2, group="hidden_laplacian")
def test_laplacian_line_output(nb):
    """laplacian_line_output: the 5 x 5 response of the 8-neighbour Laplacian to the line, zero padding ('same')"""
    line = np.zeros((5, 5))
    line[:, 2] = 10
    expected = correlate2d(line, LAPLACIAN, mode="same", boundary="fill", fillvalue=0)
    answer = nb.get("laplacian_line_output")
    if np.shape(answer) != (5, 5):
        raise CheckFailure(f"laplacian_line_output: expected 5 rows of 5 numbers, got the shape {np.shape(answer)}")
    assert_close(answer, expected, rtol=0, atol=1e-9, name="laplacian_line_output")


# 4. Seed 001, question 2: 1x1 convolutions ------------------------------------------------

@pytest.mark.points(2, group="hidden_one_by_one")
def test_conv_cost_random(nb, rng):
    """conv_cost: (k * k * c_in * c_out + biases, h * w * k * k * c_in * c_out MACs) for a stride-1 'same' convolution, against torch and its FLOP counter"""
    for index in range(SETTINGS["random_configs"]):
        h, w, c_in, c_out = (int(v) for v in rng.integers(1, [40, 40, 257, 257]))
        k, bias = int(rng.choice([1, 3, 5, 7])), bool(index % 2)
        layer = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias, device=META)
        got = pair(value(nb, "conv_cost", h, w, c_in, c_out, k, bias=bias), "conv_cost")
        shown = call_text("conv_cost", h, w, c_in, c_out, k, bias=bias)
        assert_equal_number(got[0], parameter_count(layer), name=f"{shown} parameters")
        assert_equal_number(got[1], macs(layer, (1, c_in, h, w)), name=f"{shown} MACs")


@pytest.mark.points(2, group="hidden_one_by_one")
def test_bottleneck_answers(nb):
    """one_by_one_shape, direct_cost and bottleneck_cost: a 1x1 convolution keeps height and width and sets the channels; the 1x1 reduction to 16 channels before the 5x5"""
    five = nn.Conv2d(32, 5, 1, device=META)
    out = five(torch.zeros(1, 32, 6, 6, device=META))
    shape = nb.get("one_by_one_shape")
    if not isinstance(shape, (list, tuple)) or len(shape) != 3:
        raise CheckFailure(f"one_by_one_shape: expected (height, width, channels), got {shape!r:.80}")
    for axis, got, want in zip(("height", "width", "channels"), shape, (out.shape[2], out.shape[3], out.shape[1])):
        assert_equal_number(got, int(want), name=f"one_by_one_shape {axis}")
    direct = nn.Conv2d(192, 32, 5, padding=2, device=META)
    bottleneck = nn.Sequential(nn.Conv2d(192, 16, 1, device=META), nn.Conv2d(16, 32, 5, padding=2, device=META))
    for name, layer in (("direct_cost", direct), ("bottleneck_cost", bottleneck)):
        got = pair(nb.get(name), name)
        assert_equal_number(got[0], parameter_count(layer), name=f"{name} parameters")
        assert_equal_number(got[1], macs(layer, (1, 192, 28, 28)), name=f"{name} MACs")


# 5. Seed 004, question 2-a: GoogLeNet ----------------------------------------------------

@pytest.mark.points(2, group="hidden_googlenet")
def test_inception_params_random(nb, rng):
    """inception_params: four branches (1x1; 1x1 then 3x3; 1x1 then 5x5; pooling then 1x1), biases only when bias=True, on random blocks"""
    for index in range(SETTINGS["random_configs"]):
        block = tuple(int(v) for v in rng.integers(1, 257, size=7))
        bias = bool(index % 2)
        expected = parameter_count(inception(*block, bias=bias))
        assert_equal_number(value(nb, "inception_params", *block, bias=bias), expected,
                            name=call_text("inception_params", *block, bias=bias))


@pytest.mark.points(2, group="hidden_googlenet")
def test_googlenet_params(nb):
    """googlenet_params: stem, the nine inception blocks of table 1 and the 1024 -> 1000 layer; with biases and with bias=False"""
    for bias in (True, False):
        assert_equal_number(value(nb, "googlenet_params", bias=bias), parameter_count(googlenet(bias)),
                            name=call_text("googlenet_params", bias=bias))
