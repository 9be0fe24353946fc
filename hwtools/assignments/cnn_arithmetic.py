"""Convolution arithmetic (seeds 000, 001, 002, 004): numpy functions and answer variables,
graded against torch and Keras layers built by the grader. Nothing trains, so every mode is
the same except how many random layer configurations each hidden check draws.

Each student answers for their own numbers (``hwtools.variants``): ``draw_variant`` draws the
network of seed 000 Q5 (input size, filters, kernels, strides, dilations), the dilation
misprinted in its layer 8, seed 001 Q3's network, the layer of seed 000 6-e and seed 001's
example image and filter. ``SEED_VARIANT`` holds the seed homeworks' own numbers.
"""

# Calibration (measured with the hidden suite's oracles and random generators, numpy seeds
# 0..4, 30 and 12 draws per check):
# - gradient tolerance (rtol 1e-6, atol 1e-9, central differences with step 1e-6 in
#   float64): the reference's worst |error| / allowed was 0.093 over 5 seeds x 30 random
#   shapes, a margin of 10x. The key's dL/dO = 1 (the gradient of the sum, not the mean) is
#   off by a factor of the output size; a 1 x 1 output hides it, but every seed drew
#   outputs of 2 to 40 positions, so the bug failed on every seed.
# - random configurations: the reference matched the torch oracle on every draw; with 30
#   draws rounding up was wrong on 10-20 configurations, forgetting dilation on 13-21,
#   ignoring strides in the receptive field on 15-23 stacks; with ci's 12 draws still on
#   3-8, 5-10 and 5-11: every variant failed on every seed.
COMMON = {"hidden_call_timeout_s": 10, "finite_difference_step": 1e-6, "gradient_rtol": 1e-6,
          "gradient_atol": 1e-9}

BUDGET = {
    "full": dict(COMMON, random_configs=30),
    "grade": dict(COMMON, random_configs=30),
    "ci": dict(COMMON, random_configs=12),
}


def _conv(filters, kernel, stride=1, dilation=1, padding="valid"):
    return {"kind": "conv", "filters": filters, "kernel": kernel, "stride": stride, "dilation": dilation,
            "padding": padding}


def _pool(pool=2, stride=2):
    return {"kind": "maxpool", "pool": pool, "stride": stride}


SEED_VARIANT = {
    "q5": {"input": [256, 256, 3],
           "layers": [_conv(64, 3, padding="same"), _conv(32, 5, 2, 2), _pool(),
                      _conv(128, 3, padding="same"), _conv(64, 5, 2, 4), _pool(),
                      _conv(256, 3, padding="same"), _conv(128, 5, 2, 2), _pool()],
           "misprinted_layer8_dilation": 8},
    "q3": {"input": [28, 28, 1], "filters": 32, "kernel": 3, "stride": 2, "pool": 2, "units": 5},
    "fc_bn": {"inputs": 10, "units": 20},
    "gap": {"x": [[2, 3, 4], [3, 1, 5], [4, -1, -2]], "f": [[0, 3], [1, -2]]},
}

CHANNELS = (16, 32, 48, 64, 96, 128, 192, 256)
Q5_INPUT_SIZES = (224, 256, 288, 320)
# Every drawn network is valid by its ranges (tests/test_cnn_arithmetic_variants.py builds
# them all in torch): the smallest maps come from a 224 input and stride 2 with an effective
# kernel of 17 in blocks 1 and 2, which leave 9 positions for block 3; an effective kernel of
# at most 7 there leaves at least 2 for its pooling. Layer 8 receives 9 to 78 positions, so a
# misprinted dilation of 5 to 12 fits some networks and not others.
BLOCK_DILATED = ({"kernels": (3, 5), "dilations": (1, 2, 3, 4)}, {"kernels": (3, 5), "dilations": (1, 2, 3, 4)},
                 {"kernels": (3, 5), "dilations": (1, 2, 3)})
BLOCK3_MAX_EFFECTIVE_KERNEL = 7
MISPRINTED_DILATIONS = range(5, 13)


def _int(rng, choices) -> int:
    return int(rng.choice(list(choices)))


def _draw_q5(rng) -> dict:
    layers = []
    for block in BLOCK_DILATED:
        layers.append(_conv(_int(rng, CHANNELS), _int(rng, (3, 5)), padding="same"))
        while True:
            kernel, dilation = _int(rng, block["kernels"]), _int(rng, block["dilations"])
            if block is not BLOCK_DILATED[2] or dilation * (kernel - 1) + 1 <= BLOCK3_MAX_EFFECTIVE_KERNEL:
                break
        layers.append(_conv(_int(rng, CHANNELS), kernel, _int(rng, (1, 2)), dilation))
        layers.append(_pool())
    size = _int(rng, Q5_INPUT_SIZES)
    return {"input": [size, size, 3], "layers": layers, "misprinted_layer8_dilation": _int(rng, MISPRINTED_DILATIONS)}


def draw_variant(rng) -> dict:
    """One student's numbers (``hwtools.variants.for_student`` seeds RNG from their id)."""
    q5 = _draw_q5(rng)
    q3_size = int(rng.integers(20, 41))
    q3 = {"input": [q3_size, q3_size, _int(rng, (1, 3))], "filters": _int(rng, (8, 16, 24, 32, 48, 64)),
          "kernel": _int(rng, (3, 5)), "stride": 2, "pool": 2, "units": int(rng.integers(2, 13))}
    fc_bn = {"inputs": int(rng.integers(4, 65)), "units": int(rng.integers(4, 65))}
    rows, cols = _int(rng, (3, 4)), _int(rng, (3, 4))
    gap = {"x": rng.integers(-4, 7, size=(rows, cols)).tolist(), "f": rng.integers(-3, 4, size=(2, 2)).tolist()}
    return {"q5": q5, "q3": q3, "fc_bn": fc_bn, "gap": gap}


def layer_text(layer: dict) -> str:
    """A layer as the seed homework writes it: Conv(64, 3x3, stride 1, padding 'same')."""
    if layer["kind"] == "maxpool":
        return f"MaxPool({layer['pool']}x{layer['pool']}, stride {layer['stride']})"
    k = layer["kernel"]
    if layer["dilation"] == 1:
        return f"Conv({layer['filters']}, {k}x{k}, stride {layer['stride']}, padding '{layer['padding']}')"
    return (f"Dilated-Conv({layer['filters']}, {k}x{k}, stride {layer['stride']}, dilation {layer['dilation']}, "
            f"padding '{layer['padding']}')")


def _shape_text(shape) -> str:
    return " x ".join(str(n) for n in shape)


def _matrix_text(rows) -> str:
    return "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in rows) + "]"


def describe_variant(values: dict, part: str | None = None) -> str:
    """Markdown of one part of a variant ("q5", "q3", "fc_bn", "gap"), or of all of them."""
    if part is None:
        return "\n\n".join(describe_variant(values, p) for p in ("q5", "q3", "fc_bn", "gap"))
    v = values[part]
    if part == "q5":
        rows = "\n".join(f"| {i} | {layer_text(layer)} |" for i, layer in enumerate(v["layers"], start=1))
        return (f"**Your network (section 2):** a {_shape_text(v['input'])} image goes through\n\n"
                f"| layer | |\n|---|---|\n{rows}\n\n"
                f"Layer 8's dilation was misprinted as **{v['misprinted_layer8_dilation']}**.")
    if part == "q3":
        return (f"**Your network (section 3 b):** a {_shape_text(v['input'])} image goes through "
                f"Conv2D({v['filters']}, {v['kernel']}x{v['kernel']}, stride {v['stride']}, padding 'same') -> "
                f"MaxPooling2D({v['pool']}x{v['pool']}) -> Flatten -> Dense({v['units']}) (Keras layers).")
    if part == "fc_bn":
        return (f"**Your layer (section 3 a):** a fully connected layer from {v['inputs']} to {v['units']} units "
                "followed by batch normalisation.")
    if part == "gap":
        return f"**Your example (section 4):** `X = {_matrix_text(v['x'])}` and `F = {_matrix_text(v['f'])}`."
    raise ValueError(f"no part {part!r} in a cnn_arithmetic variant")
