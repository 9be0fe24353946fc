"""Hidden grading of cnn_arithmetic.ipynb: every expected value comes from an oracle run here,
on the student's own variant (``hwtools.variants``), drawn from the student id the grader
passes (``--hw-student``), never from the submission.

Shapes come from torch layers applied to zero tensors on the meta device (shape inference
only; torch accepts stride and dilation together, Keras refuses them), parameter counts from
torch modules, gradients from finite differences in float64, receptive
fields from backpropagating a unit impulse through a stack of all-ones convolutions. The
answer checks (``check_*``) take the answers and the variant, so the project's tests run them
on many variants directly.
"""
import numpy as np
import pytest
import torch
from torch import nn

from hwtools import budget, variants
from hwtools.assignments.cnn_arithmetic import SEED_VARIANT
from hwtools.checks import CheckFailure, assert_close, assert_equal_number

torch.set_num_threads(1)
META = torch.device("meta")
SETTINGS = budget.budget("cnn_arithmetic")
SEED_X, SEED_F = SEED_VARIANT["gap"]["x"], SEED_VARIANT["gap"]["f"]


@pytest.fixture(scope="module")
def nb(student):
    return student("cnn_arithmetic.ipynb", timeout_s=SETTINGS["hidden_call_timeout_s"])


@pytest.fixture(scope="module")
def variant(student_id):
    """The numbers of the student being graded, from the id the grader passed."""
    return variants.for_student("cnn_arithmetic", student_id)


# Oracles --------------------------------------------------------------------------------

def torch_conv_size(n, kernel, stride=1, padding=0, dilation=1):
    """Output size of nn.Conv2d on an n x n zero input; None where torch refuses the layer."""
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, device=META)
    try:
        return int(layer(torch.zeros(1, 1, n, n, device=META)).shape[-1])
    except RuntimeError:
        return None


def torch_pool_size(n, pool, stride=None, padding=0):
    layer = nn.MaxPool2d(pool, stride=stride, padding=padding)
    return int(layer(torch.zeros(1, 1, n, n, device=META)).shape[-1])


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def q5_layers(q5=SEED_VARIANT["q5"], layer8_dilation=None):
    """Seed 000 question 5's network of a variant (``q5``), layer by layer, in torch; layer 8
    with LAYER8_DILATION instead of its own when given."""
    layers, c_in = [], q5["input"][2]
    for index, spec in enumerate(q5["layers"], start=1):
        if spec["kind"] == "maxpool":
            layers.append(nn.MaxPool2d(spec["pool"], spec["stride"]))
            continue
        dilation = layer8_dilation if index == 8 and layer8_dilation else spec["dilation"]
        layers.append(nn.Conv2d(c_in, spec["filters"], spec["kernel"], stride=spec["stride"], dilation=dilation,
                                padding=spec["padding"], device=META))
        c_in = spec["filters"]
    return layers


def q5_table(q5=SEED_VARIANT["q5"], layer8_dilation=None):
    """[(height, width, channels), ...] and [parameters, ...] of every layer of the network."""
    height, width, channels = q5["input"]
    x, shapes, params = torch.zeros(1, channels, height, width, device=META), [], []
    for layer in q5_layers(q5, layer8_dilation):
        x = layer(x)
        shapes.append((int(x.shape[2]), int(x.shape[3]), int(x.shape[1])))
        params.append(parameter_count(layer))
    return shapes, params


def q5_conv_configs(q5):
    """conv_output_size's arguments for each convolution of the network, with the size it receives."""
    shapes, _ = q5_table(q5)
    sizes = [q5["input"][0]] + [shape[0] for shape in shapes]
    configs = []
    for n, spec in zip(sizes, q5["layers"]):
        if spec["kind"] == "conv":
            padding = (spec["kernel"] - 1) // 2 if spec["padding"] == "same" else 0
            configs.append(dict(n=n, kernel=spec["kernel"], stride=spec["stride"], padding=padding,
                                dilation=spec["dilation"]))
    return configs


def smallest_input_accepted(layer: nn.Module, c_in: int) -> int:
    """The smallest square input a layer accepts: its effective kernel size."""
    n = 1
    while True:
        try:
            layer(torch.zeros(1, c_in, n, n, device=META))
            return n
        except RuntimeError:
            n += 1


def classic_net_params(name):
    """AlexNet (single tower, 96 filters, 227 x 227) or VGG16, built in torch on the meta device."""
    with META:
        if name == "alexnet":
            features, size = [nn.Conv2d(3, 96, 11, 4), nn.MaxPool2d(3, 2), nn.Conv2d(96, 256, 5, padding=2),
                              nn.MaxPool2d(3, 2), nn.Conv2d(256, 384, 3, padding=1),
                              nn.Conv2d(384, 384, 3, padding=1), nn.Conv2d(384, 256, 3, padding=1),
                              nn.MaxPool2d(3, 2)], 227
        else:
            features, c_in, size = [], 3, 224
            for width, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
                for _ in range(repeat):
                    features.append(nn.Conv2d(c_in, width, 3, padding=1))
                    c_in = width
                features.append(nn.MaxPool2d(2, 2))
        body = nn.Sequential(*features)
        flat = body(torch.zeros(1, 3, size, size)).flatten(1).shape[1]
        head = nn.Sequential(nn.Linear(flat, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000))
    return parameter_count(body) + parameter_count(head)


def torch_correlate(x, w):
    as_4d = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))[None, None]
    return torch.nn.functional.conv2d(as_4d(x), as_4d(w))[0, 0].numpy()


def numeric_filter_gradient(x, w, step):
    """dL/dw of L = mean(correlate(x, w)) by central differences."""
    w = np.asarray(w, dtype=np.float64)
    grad = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (torch_correlate(x, up).mean() - torch_correlate(x, down).mean()) / (2 * step)
    return grad


def probed_receptive_field(kernels, dilations, strides):
    """Span of the input positions that output unit 0 depends on (impulse backpropagated)."""
    size = 16
    while True:
        x = torch.zeros(1, 1, size, dtype=torch.float64, requires_grad=True)
        out = x
        try:
            for k, d, s in zip(kernels, dilations, strides):
                layer = nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False).double()
                nn.init.ones_(layer.weight)
                out = layer(out)
        except RuntimeError:
            size *= 2
            continue
        out[0, 0, 0].backward()
        seen = np.flatnonzero(x.grad[0, 0].numpy())
        return int(seen[-1] - seen[0] + 1)


# Random configurations ------------------------------------------------------------------

def random_conv(rng):
    while True:
        config = dict(n=int(rng.integers(4, 160)), kernel=int(rng.choice([1, 2, 3, 4, 5, 7])),
                      stride=int(rng.integers(1, 5)), padding=int(rng.integers(0, 4)),
                      dilation=int(rng.integers(1, 5)))
        expected = torch_conv_size(**config)
        if expected is not None:
            return config, expected


def random_stack(rng):
    layers = int(rng.integers(1, 6))
    return ([int(rng.choice([1, 2, 3, 5])) for _ in range(layers)], [int(rng.integers(1, 4)) for _ in range(layers)],
            [int(rng.integers(1, 4)) for _ in range(layers)])


def call_text(name, *args, **kwargs):
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def student_number(nb, name, *args, **kwargs):
    return nb.call(name, *args, **kwargs).value


# Layer arithmetic -----------------------------------------------------------------------

@pytest.mark.points(1, group="hidden_conv_output_size")
def test_conv_output_size_seed_layers(nb, variant):
    """conv_output_size on the seed's layers and your network's: floor((n + 2p - d(k - 1) - 1) / s) + 1, same padding, stride 2, dilation 2 and 4"""
    for config in (dict(n=256, kernel=3, stride=1, padding=1, dilation=1), dict(n=256, kernel=5, stride=2, dilation=2),
                   dict(n=62, kernel=5, stride=2, dilation=4), dict(n=11, kernel=5, stride=2, dilation=2),
                   *q5_conv_configs(variant["q5"])):
        expected = torch_conv_size(**config)
        assert_equal_number(student_number(nb, "conv_output_size", **config), expected,
                            name=call_text("conv_output_size", **config))


@pytest.mark.points(2, group="hidden_conv_output_size")
def test_conv_output_size_random(nb, rng):
    """conv_output_size on random layers: floor((n + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1, rounded down"""
    for _ in range(SETTINGS["random_configs"]):
        config, expected = random_conv(rng)
        assert_equal_number(student_number(nb, "conv_output_size", **config), expected,
                            name=call_text("conv_output_size", **config))


@pytest.mark.points(1, group="hidden_pool_output_size")
def test_pool_output_size_random(nb, rng):
    """pool_output_size on random layers: floor((n + 2 * padding - pool) / stride) + 1, stride defaulting to the pool size"""
    for index in range(SETTINGS["random_configs"]):
        pool = int(rng.integers(2, 6))
        config = dict(n=int(rng.integers(pool, 120)), pool=pool, padding=int(rng.integers(0, pool // 2 + 1)))
        if index % 3:
            config["stride"] = int(rng.integers(1, 5))
        expected = torch_pool_size(**config)
        assert_equal_number(student_number(nb, "pool_output_size", **config), expected,
                            name=call_text("pool_output_size", **config))


def random_conv_params_case(rng, rectangular):
    c_in, c_out = int(rng.integers(1, 513)), int(rng.integers(1, 513))
    kernel = (int(rng.integers(1, 8)), int(rng.integers(1, 8))) if rectangular else int(rng.choice([1, 3, 5, 7]))
    return c_in, c_out, kernel


@pytest.mark.points(1, group="hidden_conv_params")
def test_conv_params_with_bias(nb, rng):
    """conv_params, square kernels, default bias: (kernel * kernel * c_in + 1) * c_out"""
    for _ in range(SETTINGS["random_configs"]):
        c_in, c_out, kernel = random_conv_params_case(rng, rectangular=False)
        expected = parameter_count(nn.Conv2d(c_in, c_out, kernel, device=META))
        assert_equal_number(student_number(nb, "conv_params", c_in, c_out, kernel), expected,
                            name=call_text("conv_params", c_in, c_out, kernel))


@pytest.mark.points(1, group="hidden_conv_params")
def test_conv_params_rectangular_and_no_bias(nb, rng):
    """conv_params with (kh, kw) kernels: kh * kw * c_in * c_out weights, plus c_out biases only when bias=True"""
    for index in range(SETTINGS["random_configs"]):
        c_in, c_out, kernel = random_conv_params_case(rng, rectangular=True)
        bias = bool(index % 2)
        expected = parameter_count(nn.Conv2d(c_in, c_out, kernel, bias=bias, device=META))
        assert_equal_number(student_number(nb, "conv_params", c_in, c_out, kernel, bias=bias), expected,
                            name=call_text("conv_params", c_in, c_out, kernel, bias=bias))


@pytest.mark.points(1, group="hidden_same_padding")
def test_same_padding(nb):
    """same_padding(f) = (f - 1) / 2 keeps the size of a stride-1 convolution, for odd f"""
    for f in (1, 3, 5, 7, 9, 11):
        expected = next(p for p in range(f) if torch_conv_size(32, f, padding=p) == 32)
        assert_equal_number(student_number(nb, "same_padding", f), expected, name=f"same_padding({f})")


# Seed 000, question 5 -------------------------------------------------------------------

def read_table(answer, name, expected):
    if not isinstance(answer, (list, tuple)) or len(answer) != len(expected):
        raise CheckFailure(f"{name}: expected a list of {len(expected)} entries, got {answer!r:.120}")
    return answer


def check_shape(answer, expected, name):
    if not isinstance(answer, (list, tuple)) or len(answer) != 3:
        raise CheckFailure(f"{name}: expected (height, width, channels), got {answer!r:.80}")
    for axis, value, want in zip(("height", "width", "channels"), answer, expected):
        assert_equal_number(value, want, name=f"{name} {axis}")


def check_q5_output_shapes(answer, q5):
    shapes, _ = q5_table(q5)
    for layer, (got, expected) in enumerate(zip(read_table(answer, "q5_output_shapes", shapes), shapes), start=1):
        check_shape(got, expected, f"q5_output_shapes, layer {layer}")


def check_q5_params(answer, q5):
    _, params = q5_table(q5)
    for layer, (got, expected) in enumerate(zip(read_table(answer, "q5_params", params), params), start=1):
        assert_equal_number(got, expected, name=f"q5_params, layer {layer}")


def check_q5_dilation8(effective_kernel, fits, q5):
    dilation = q5["misprinted_layer8_dilation"]
    layer8 = q5_layers(q5, layer8_dilation=dilation)[7]
    assert_equal_number(effective_kernel, smallest_input_accepted(layer8, layer8.in_channels),
                        name=f"q5_d8_effective_kernel (dilation {dilation})")
    shapes, _ = q5_table(q5)
    height, width, channels = shapes[6]
    try:
        layer8(torch.zeros(1, channels, height, width, device=META))
        expected = True
    except RuntimeError:
        expected = False
    if not isinstance(fits, bool) or fits != expected:
        raise CheckFailure(f"q5_d8_fits: expected {expected} for a {height} x {width} input, got {fits!r:.40}")


@pytest.mark.points(2, group="hidden_q5_table")
def test_q5_output_shapes(nb, variant):
    """q5_output_shapes: (height, width, channels) after each of the nine layers of your network, sizes rounded down"""
    check_q5_output_shapes(nb.get("q5_output_shapes"), variant["q5"])


@pytest.mark.points(2, group="hidden_q5_table")
def test_q5_params(nb, variant):
    """q5_params: (k * k * c_in + 1) * c_out for each convolution of the nine layers, 0 for each pooling layer"""
    check_q5_params(nb.get("q5_params"), variant["q5"])


@pytest.mark.points(1, group="hidden_q5_table")
def test_q5_dilation8(nb, variant):
    """layer 8 with the misprinted dilation: effective kernel d * (k - 1) + 1, and whether it fits the layer's input (no padding)"""
    check_q5_dilation8(nb.get("q5_d8_effective_kernel"), nb.get("q5_d8_fits"), variant["q5"])


# Parameter counts of the other seeds ----------------------------------------------------

def check_fc_batchnorm(answer, fc_bn):
    layers = nn.Sequential(nn.Linear(fc_bn["inputs"], fc_bn["units"]), nn.BatchNorm1d(fc_bn["units"])).to(META)
    assert_equal_number(answer, parameter_count(layers), name="fc_bn_trainable_params")


@pytest.mark.points(1, group="hidden_fc_batchnorm")
def test_fc_batchnorm(nb, variant):
    """fc_bn_trainable_params: your Linear layer's weights and biases plus batch norm's gamma and beta (not its running stats)"""
    check_fc_batchnorm(nb.get("fc_bn_trainable_params"), variant["fc_bn"])


Q3_SHAPES = ("q3_conv_shape", "q3_pool_shape", "q3_flatten_size")
Q3_PARAMS = ("q3_conv_params", "q3_dense_params")


def seed001_q3_oracle(q3=SEED_VARIANT["q3"]):
    """Shapes and parameters of seed 001's network of a variant in torch. Keras's 'same' padding
    at stride s keeps every s-th position of the stride-1 'same' output, so it is built that way."""
    height, width, channels = q3["input"]
    conv = nn.Conv2d(channels, q3["filters"], q3["kernel"], padding="same", device=META)
    conv_out = conv(torch.zeros(1, channels, height, width, device=META))[:, :, ::q3["stride"], ::q3["stride"]]
    pool_out = nn.MaxPool2d(q3["pool"])(conv_out)
    flat = int(pool_out.flatten(1).shape[1])
    as_hwc = lambda t: (int(t.shape[2]), int(t.shape[3]), int(t.shape[1]))
    return {"q3_conv_shape": as_hwc(conv_out), "q3_pool_shape": as_hwc(pool_out), "q3_flatten_size": flat,
            "q3_conv_params": parameter_count(conv),
            "q3_dense_params": parameter_count(nn.Linear(flat, q3["units"], device=META))}


def check_q3_shapes(answers: dict, q3):
    oracle = seed001_q3_oracle(q3)
    for name in ("q3_conv_shape", "q3_pool_shape"):
        check_shape(answers[name], oracle[name], name)
    assert_equal_number(answers["q3_flatten_size"], oracle["q3_flatten_size"], name="q3_flatten_size")


def check_q3_params(answers: dict, q3):
    oracle = seed001_q3_oracle(q3)
    for name in Q3_PARAMS:
        assert_equal_number(answers[name], oracle[name], name=name)


@pytest.mark.points(1, group="hidden_seed001_q3")
def test_seed001_q3_shapes(nb, variant):
    """q3_conv_shape, q3_pool_shape, q3_flatten_size: Keras 'same' padding at stride 2 gives ceil(n / 2), then 2x2 pooling"""
    check_q3_shapes({name: nb.get(name) for name in Q3_SHAPES}, variant["q3"])


@pytest.mark.points(1, group="hidden_seed001_q3")
def test_seed001_q3_params(nb, variant):
    """q3_conv_params and q3_dense_params: (k * k * c_in + 1) * c_out and (inputs + 1) * units"""
    check_q3_params({name: nb.get(name) for name in Q3_PARAMS}, variant["q3"])


@pytest.mark.points(1, group="hidden_classic_nets")
def test_alexnet_params(nb):
    """alexnet_params: weights and biases of single-tower AlexNet on 227 x 227 (5 conv, 3 dense; pooling has none)"""
    assert_equal_number(nb.get("alexnet_params"), classic_net_params("alexnet"), name="alexnet_params")


@pytest.mark.points(1, group="hidden_classic_nets")
def test_vgg16_params(nb):
    """vgg16_params: weights and biases of VGG16 on 224 x 224 (13 conv, 3 dense; pooling has none)"""
    assert_equal_number(nb.get("vgg16_params"), classic_net_params("vgg16"), name="vgg16_params")


# Seed 001: convolution and global average pooling ---------------------------------------

def random_image_and_filter(rng):
    rows, cols = int(rng.integers(3, 10)), int(rng.integers(3, 10))
    x = rng.normal(size=(rows, cols))
    w = rng.normal(size=(int(rng.integers(1, rows + 1)), int(rng.integers(1, cols + 1))))
    return x, w


@pytest.mark.points(2, group="hidden_gap_example")
def test_conv2d_valid_random(nb, rng):
    """conv2d_valid: valid cross-correlation (kernel not flipped), output (H - kh + 1, W - kw + 1), on random inputs"""
    for _ in range(SETTINGS["random_configs"]):
        x, w = random_image_and_filter(rng)
        got = nb.call("conv2d_valid", x, w).value
        assert_close(got, torch_correlate(x, w), rtol=1e-9, atol=1e-9,
                     name=f"conv2d_valid for x {x.shape} and w {w.shape}")


@pytest.mark.points(2, group="hidden_gap_example")
def test_gap_filter_gradient_random(nb, rng):
    """gap_filter_gradient: dL/dF of L = mean(conv2d_valid(x, F)), against finite differences on random inputs"""
    for _ in range(SETTINGS["random_configs"]):
        x, w = random_image_and_filter(rng)
        got = nb.call("gap_filter_gradient", x, w).value
        expected = numeric_filter_gradient(x, w, SETTINGS["finite_difference_step"])
        assert_close(got, expected, rtol=SETTINGS["gradient_rtol"], atol=SETTINGS["gradient_atol"],
                     name=f"dL/dw for x {x.shape} and w {w.shape}")


GAP_ANSWERS = ("example_output", "example_gap", "example_dL_dF")


def check_gap_example(answers: dict, gap):
    output = torch_correlate(gap["x"], gap["f"])
    if np.shape(answers["example_output"]) != output.shape:
        raise CheckFailure(f"example_output: expected a {output.shape[0]} x {output.shape[1]} output for your X "
                           f"and F, got shape {np.shape(answers['example_output'])}")
    assert_close(answers["example_output"], output, rtol=0, atol=1e-9, name="example_output")
    assert_close(answers["example_gap"], output.mean(), rtol=0, atol=1e-9, name="example_gap")
    gradient = numeric_filter_gradient(gap["x"], gap["f"], SETTINGS["finite_difference_step"])
    assert_close(answers["example_dL_dF"], gradient, rtol=SETTINGS["gradient_rtol"],
                 atol=SETTINGS["gradient_atol"], name="example_dL_dF")


@pytest.mark.points(1, group="hidden_gap_example")
def test_gap_example_answers(nb, variant):
    """example_output, example_gap (the mean of the output) and example_dL_dF for your X and F"""
    check_gap_example({name: nb.get(name) for name in GAP_ANSWERS}, variant["gap"])


# Seed 002: receptive fields -------------------------------------------------------------

@pytest.mark.points(2, group="hidden_receptive_field")
def test_receptive_field_random(nb, rng):
    """receptive_field: 1 + sum of dilation * (kernel - 1) * the product of the earlier strides, on random stacks"""
    for _ in range(SETTINGS["random_configs"]):
        stack = random_stack(rng)
        assert_equal_number(student_number(nb, "receptive_field", *stack), probed_receptive_field(*stack),
                            name=call_text("receptive_field", *stack))


@pytest.mark.points(1, group="hidden_receptive_field")
def test_relative_receptive_field(nb, rng):
    """relative_receptive_field: the receptive field divided by the input size"""
    for _ in range(SETTINGS["random_configs"]):
        stack = random_stack(rng)
        field = probed_receptive_field(*stack)
        input_size = field + int(rng.integers(0, 200))
        assert_close(student_number(nb, "relative_receptive_field", *stack, input_size), field / input_size,
                     rtol=1e-9, name=call_text("relative_receptive_field", *stack, input_size))
