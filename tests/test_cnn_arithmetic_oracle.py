"""The record of seed 000 question 5 (and its neighbours): the seed key's printed values
beside what the hidden suite's oracle computes with real layers. The known key errors are
written down here, so a change of the oracle that starts agreeing with them fails."""
import importlib.util
import warnings

import pytest

from conftest import REPO

# The key of seed 000 Q5, layer by layer: (height of the output, parameters).
SEED_KEY = [(256, 1792), (125, 51332), (63, 0), (63, 36992), (24, 204864), (12, 0), (12, 147712), (3, 519328),
            (2, 0)]
# Where the oracle disagrees with the key, and why.
KEY_ERRORS = {
    2: "parameters 32 * (5*5*64 + 1) = 51,232 (key: 51,332); (256 - 9) / 2 + 1 = 124.5 floors to 124",
    3: "62, from 124 (key rounds up to 63)", 4: "62 (key 63)", 5: "(62 - 17) // 2 + 1 = 23 (key 24)",
    6: "11 (key 12)", 7: "11 (key 12)",
    8: "parameters 128 * (5*5*256 + 1) = 819,328 (key: 519,328); (11 - 9) // 2 + 1 = 2 (key 3)",
    9: "1 (key 2)",
}


@pytest.fixture(scope="module")
def oracle():
    path = REPO / "tests" / "hidden" / "cnn_arithmetic" / "test_cnn_arithmetic.py"
    spec = importlib.util.spec_from_file_location("cnn_arithmetic_hidden_oracle", path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)  # the grader registers its marks
        spec.loader.exec_module(module)
    return module


def test_seed000_q5_oracle_beside_the_key(oracle):
    shapes, params = oracle.q5_table()
    assert params == [1792, 51232, 0, 36992, 204864, 0, 147712, 819328, 0]
    assert [s[0] for s in shapes] == [256, 124, 62, 62, 23, 11, 11, 2, 1]
    assert all(s[0] == s[1] for s in shapes) and [s[2] for s in shapes] == [64, 32, 32, 128, 64, 64, 256, 128, 128]
    disagree = {layer for layer, ((key_h, key_p), shape, p) in enumerate(zip(SEED_KEY, shapes, params), start=1)
                if (key_h, key_p) != (shape[0], p)}
    assert disagree == set(KEY_ERRORS)


def test_key_rounds_up_where_the_oracle_floors(oracle):
    """The key's sizes are what ceil gives at every layer: its one systematic error."""
    import math

    height, ceil_heights = 256, []
    for kernel, stride, padding, dilation in ((3, 1, 1, 1), (5, 2, 0, 2), (2, 2, 0, 1), (3, 1, 1, 1), (5, 2, 0, 4),
                                              (2, 2, 0, 1), (3, 1, 1, 1), (5, 2, 0, 2), (2, 2, 0, 1)):
        height = math.ceil((height + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1
        ceil_heights.append(height)
    assert ceil_heights == [h for h, _ in SEED_KEY]


def test_seed000_layer8_with_dilation_8_does_not_fit(oracle):
    layer8 = oracle.q5_layers(layer8_dilation=8)[7]
    assert oracle.smallest_input_accepted(layer8, 256) == 33
    with pytest.raises(RuntimeError):
        oracle.q5_table(layer8_dilation=8)


def test_other_seed_answers_beside_the_oracle(oracle):
    # seed 004: AlexNet agrees; the VGG16 table adds 65,664 for a pooling layer (138,423,208)
    assert oracle.classic_net_params("alexnet") == 62_378_344
    assert oracle.classic_net_params("vgg16") == 138_357_544 == 138_423_208 - 65_664
    # seed 000 6-e agrees: 10 -> 20 with batch norm has 260 trainable parameters
    fc_bn = oracle.nn.Sequential(oracle.nn.Linear(10, 20), oracle.nn.BatchNorm1d(20))
    assert oracle.parameter_count(fc_bn) == 260
    # seed 001 Q3 agrees (14 x 14 x 32, Flatten 1568, Dense 7845)
    q3 = oracle.seed001_q3_oracle()
    assert (q3["q3_conv_shape"], q3["q3_flatten_size"], q3["q3_dense_params"]) == ((14, 14, 32), 1568, 7845)
    # seed 001's GAP example: output and GAP agree; the key's dL/dF [[9, 13], [7, 3]] is the
    # gradient of sum(O) (it takes dL/dO = 1), four times the gradient of L = mean(O)
    x, f = oracle.SEED_X, oracle.SEED_F
    assert oracle.torch_correlate(x, f).tolist() == [[10, 3], [9, 18]]
    gradient = oracle.numeric_filter_gradient(x, f, 1e-6)
    assert abs(gradient * 4 - [[9, 13], [7, 3]]).max() < 1e-6
