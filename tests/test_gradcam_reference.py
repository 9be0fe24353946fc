"""The hidden suite's reference Grad-CAM agrees with an independent torch Grad-CAM on the same
weights (the grader's fixed-weight model, copied layer by layer into torch)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import load_hidden_module
from hwtools.data import mnist_digits_fixture

HIDDEN = "tests/hidden/gradcam/test_gradcam.py"


@pytest.fixture(scope="module")
def hidden(repo):
    return load_hidden_module(repo, HIDDEN, "hidden_gradcam_reference")


@pytest.fixture(scope="module")
def keras_model(hidden):
    return hidden.fixed_weight_model()


def torch_weights(model):
    """Keras kernels as torch tensors: conv HWIO -> OIHW, dense (in, out) -> (out, in)."""
    convs, denses = [], []
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        kernel, bias = (torch.from_numpy(w.astype(np.float64)) for w in weights)
        if kernel.ndim == 4:
            convs.append((layer.name, kernel.permute(3, 2, 0, 1).contiguous(), bias))
        else:
            denses.append((kernel.T.contiguous(), bias))
    return convs, denses


def torch_gradcam(model, image, layer_name, class_index=None):
    """Grad-CAM in torch (NCHW, float64), following Selvaraju et al. 2017: the named layer's
    activations become a leaf, the rest of the network runs from them."""
    convs, denses = torch_weights(model)
    h = torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1)[None]
    activations = None
    for name, kernel, bias in convs:
        h = F.relu(F.conv2d(h, kernel, bias, padding=1))
        if name == layer_name:
            activations = h.detach().requires_grad_(True)
            h = activations
        h = F.max_pool2d(h, 2)
    h = h.permute(0, 2, 3, 1).flatten(1)  # Keras flattens channels last
    (w1, b1), (w2, b2) = denses
    scores = F.linear(F.relu(F.linear(h, w1, b1)), w2, b2)[0]
    target = int(scores.argmax()) if class_index is None else class_index
    scores[target].backward()
    weights = activations.grad[0].mean(dim=(1, 2))
    cam = F.relu(torch.einsum("chw,c->hw", activations[0].detach(), weights)).numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def digits(count):
    (images, _), _ = mnist_digits_fixture()
    return images[:count].astype("float32")[..., np.newaxis] / 255.0


def test_torch_forward_matches_keras(keras_model):
    """The weight copy is right: both frameworks give the same class scores."""
    convs, denses = torch_weights(keras_model)
    images = digits(4)
    h = torch.from_numpy(images.astype(np.float64)).permute(0, 3, 1, 2)
    for _, kernel, bias in convs:
        h = F.max_pool2d(F.relu(F.conv2d(h, kernel, bias, padding=1)), 2)
    h = h.permute(0, 2, 3, 1).flatten(1)
    (w1, b1), (w2, b2) = denses
    scores = F.linear(F.relu(F.linear(h, w1, b1)), w2, b2).numpy()
    np.testing.assert_allclose(keras_model(images).numpy(), scores, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", ["grader_top_conv", "grader_conv_2"])
def test_reference_gradcam_matches_torch(hidden, keras_model, layer):
    compared = 0
    for image in digits(12):
        for class_index in (None, 3, 8):
            expected = torch_gradcam(keras_model, image, layer, class_index)
            actual, _, peak = hidden.reference_gradcam(keras_model, image, layer, class_index)
            assert actual.shape == expected.shape
            np.testing.assert_allclose(actual, expected, atol=1e-4)
            compared += peak > 0
    assert compared >= 18, "too few non-zero maps to compare"


def test_torch_gradcam_tells_the_known_bugs_apart(keras_model):
    """The oracle itself is sensitive: another class or another layer gives another map."""
    image = digits(1)[0]
    top = torch_gradcam(keras_model, image, "grader_top_conv")
    scores = keras_model(image[np.newaxis]).numpy()[0]
    other = torch_gradcam(keras_model, image, "grader_top_conv", int(np.argsort(scores)[-2]))
    assert np.abs(top - other).max() > 0.2
    assert torch_gradcam(keras_model, image, "grader_conv_1").shape == (28, 28)
