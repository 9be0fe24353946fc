"""Hidden grading of gradcam.ipynb.

The student's functions run in a sandboxed process on data the grader makes; the saved model
is loaded here, its optimizer's step count must be the budget's training (a model trained
elsewhere, longer or on other data is flagged and loses the accuracy points), and it is measured
on held-out test images the notebook's loader never returns in the grade and ci budgets; Grad-CAM is compared with a
reference computed here, on a functional model with fixed weights that this suite builds
(its last Dense layer gives scores without softmax, as in the Keras Grad-CAM example).
"""
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import spearmanr

from hwtools import budget, seeding
from hwtools.assignments.gradcam import (HEATMAPS_FILE, MODEL_FILE, expected_training_steps, grader_test_split,
                                        load_mnist_tagged)
from hwtools.checks import CheckFailure, assert_close, assert_trained_steps
from hwtools.data import mnist_digits_fixture
from hwtools.grading import kit
from hwtools.grading.wire import ModelFile

NOTEBOOK = "gradcam.ipynb"
GRADER_MODEL_FILE = "grader_fixed_weights.keras"
FIXED_WEIGHTS_SEED = 20240607
# Normalised maps agree when no cell is off by more than MAP_ATOL and the ranks agree: a
# correct float32 implementation is off by about 1e-6, every known bug by more than 0.2.
MAP_ATOL = 0.01
MIN_RANK_CORRELATION = 0.98
CONV_SPECS = [(32, (3, 3)), (64, (3, 3)), (128, (3, 3))]
LAYER_ORDER = ["Conv2D", "MaxPooling2D"] * 3 + ["Flatten", "Dense", "Dense"]

seeding.seed_everything()


def settings():
    return budget.budget("gradcam")


@pytest.fixture(scope="module")
def notebook(student, grader_model):
    """The notebook's definitions in a sandbox; its copy of the folder holds the grader's model."""
    return student(NOTEBOOK, timeout_s=settings()["hidden_call_timeout_s"])


def fixed_weight_model() -> keras.Model:
    """The grader's own model: the assignment's architecture, functional, scores without softmax."""
    keras.utils.set_random_seed(FIXED_WEIGHTS_SEED)
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    h = inputs
    for index, (filters, kernel) in enumerate(CONV_SPECS, start=1):
        name = "grader_top_conv" if index == len(CONV_SPECS) else f"grader_conv_{index}"
        h = keras.layers.Conv2D(filters, kernel, padding="same", activation="relu", name=name)(h)
        h = keras.layers.MaxPooling2D(2, name=f"grader_pool_{index}")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(128, activation="relu")(h)
    return keras.Model(inputs, keras.layers.Dense(10, name="scores")(h), name="grader_model")


@pytest.fixture(scope="module")
def grader_model(submission_dir):
    """(model, its saved file): saved into the submission folder before the sandbox copies it
    (the student's process sees only its copy of that folder), removed afterwards."""
    model = fixed_weight_model()
    path = submission_dir / GRADER_MODEL_FILE
    model.save(path)
    seeding.seed_everything()
    yield model, ModelFile(GRADER_MODEL_FILE)
    path.unlink(missing_ok=True)


def reference_gradcam(model, image, layer_name, class_index=None):
    """Grad-CAM (Selvaraju et al.) by layer-wise forward pass: (map in [0, 1], class, raw peak)."""
    activations = None
    with tf.GradientTape() as tape:
        h = tf.constant(np.asarray(image, dtype="float32")[np.newaxis])
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            h = layer(h)
            if layer.name == layer_name:
                activations = h
                tape.watch(activations)
        scores = h[0]
        target = int(np.argmax(scores.numpy())) if class_index is None else int(class_index)
        chosen = scores[target]
    gradient = tape.gradient(chosen, activations)[0].numpy().astype("float64")
    channel_weights = gradient.mean(axis=(0, 1))
    cam = np.maximum(np.einsum("ijk,k->ij", activations[0].numpy().astype("float64"), channel_weights), 0.0)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam), target, peak


def returned_map(value, shape, name):
    """The contract of a heatmap: a finite array of the named layer's height and width."""
    return kit.returned_array(value, name, shape=shape, shape_note="the named conv layer's height and width")


def assert_same_map(actual, expected, name):
    """The contract, then a tolerance on the normalised map, then the rank correlation of its cells."""
    actual = returned_map(actual, expected.shape, name)
    assert_close(actual, expected, rtol=0, atol=MAP_ATOL, name=name)
    if np.ptp(expected) > 0 and np.ptp(actual) > 0:
        rho = spearmanr(actual.ravel(), expected.ravel()).statistic
        if not rho >= MIN_RANK_CORRELATION:
            raise CheckFailure(f"{name}: rank correlation with the reference {rho:.3f} < {MIN_RANK_CORRELATION}")


def digit_images(rng, count):
    """Real handwritten digits (scikit-learn's, MNIST-shaped), scaled to [0, 1]."""
    (train, _), _ = mnist_digits_fixture()
    picked = rng.choice(len(train), size=count, replace=False)
    return train[picked].astype("float32")[..., np.newaxis] / 255.0


def informative_cases(model, rng, layer, count, other_class=False):
    """(image, class or None, reference map) whose reference map is not flat."""
    cases = []
    for image in digit_images(rng, 4 * count):
        class_index = None
        if other_class:
            ranked = np.argsort(model(image[np.newaxis]).numpy()[0])[::-1]
            class_index = int(rng.choice(ranked[1:5]))
        expected, _, peak = reference_gradcam(model, image, layer, class_index)
        if peak > 0 and np.count_nonzero(expected) >= 3:
            cases.append((image, class_index, expected))
        if len(cases) == count:
            return cases
    raise RuntimeError("the grader's model gave too few informative maps")


def student_map(notebook, model_file, image, layer, class_index=None):
    args = (image[np.newaxis], model_file, layer) + (() if class_index is None else (class_index,))
    return notebook.call("make_gradcam_heatmap", *args).value


def saved_model(submission_dir: Path):
    if not (submission_dir / MODEL_FILE).is_file():
        raise CheckFailure(f"{MODEL_FILE} was not saved by the notebook (did the training cell run?)")
    return kit.load_model(submission_dir / MODEL_FILE, MODEL_FILE,
                          "it was not saved by the notebook (did the training cell run?)")


@pytest.fixture(scope="module")
def student_model(submission_dir):
    return saved_model(submission_dir)


def layers_of(model):
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


# --- data -------------------------------------------------------------------------------

@pytest.mark.points(1, group="hidden_data")
def test_shuffle_is_a_permutation_that_keeps_pairs(notebook, rng):
    """shuffle_training_set: one permutation applied to images and labels alike (pairs kept, order changed)"""
    n = 400
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    result = kit.returned_tuple(notebook.call("shuffle_training_set", images, labels).value, 2,
                                "shuffle_training_set", "(x, y)")
    shuffled_x = kit.returned_array(result[0], "shuffled x", shape=images.shape, shape_note="the shape of x")
    shuffled_y = kit.returned_array(result[1], "shuffled y", shape=labels.shape, shape_note="the shape of y")
    index_of = {images[i].tobytes(): i for i in range(n)}
    origin = [index_of.get(shuffled_x[i].astype(np.uint8).tobytes(), -1) for i in range(n)]
    if -1 in origin or len(set(origin)) != n:
        raise CheckFailure("shuffled x is not a permutation of the input images (images lost, changed or repeated)")
    origin = np.array(origin)
    assert_close(shuffled_y, labels[origin].astype(float), name="labels after shuffling (pairs must stay together)")
    unmoved = np.mean(origin == np.arange(n))
    if unmoved > 0.1:
        raise CheckFailure(f"{unmoved:.0%} of the samples kept their place: the order was not shuffled")


@pytest.mark.points(1, group="hidden_data")
def test_scale_images(notebook, rng):
    """scale_images: pixels / 255 as a float32 numpy array with a channel axis, shape (N, 28, 28, 1)"""
    images = rng.integers(0, 256, size=(37, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    scaled = kit.returned_array(notebook.call("scale_images", images).value, "scaled images", numpy_only=True,
                                dtype=np.float32, shape=(37, 28, 28, 1), shape_note="(N, 28, 28, 1)")
    assert_close(scaled[..., 0], images / 255.0, rtol=0, atol=1e-6, name="scaled pixels")


@pytest.mark.points(1, group="hidden_data")
def test_one_hot_labels(notebook, rng):
    """one_hot_labels: shape (N, 10), one row per label with a single 1 at the label's index"""
    labels = rng.integers(0, 10, size=53)
    labels[:10] = np.arange(10)
    encoded = kit.returned_array(notebook.call("one_hot_labels", labels).value, "one-hot labels", shape=(53, 10),
                                 shape_note="(N, 10)")
    assert_close(encoded, np.eye(10)[labels], rtol=0, atol=0, name="one-hot labels")


# --- architecture of the saved model -------------------------------------------------------

@pytest.mark.points(1, group="hidden_architecture")
def test_layer_order(student_model):
    """layer order 3 x (Conv2D, MaxPooling2D), Flatten, Dense, Dense, on (28, 28, 1) inputs"""
    found = [type(layer).__name__ for layer in layers_of(student_model)]
    if found != LAYER_ORDER:
        raise CheckFailure(f"layers expected {LAYER_ORDER}, found {found}")
    input_shape = tuple(student_model.input_shape[1:])
    if input_shape != (28, 28, 1):
        raise CheckFailure(f"input shape expected (28, 28, 1), found {input_shape}")


@pytest.mark.points(1, group="hidden_architecture")
def test_convolutions(student_model):
    """three Conv2D layers: 32, 64 and 128 filters, kernel 3x3, ReLU, padding 'same'"""
    convs = [layer for layer in layers_of(student_model) if isinstance(layer, keras.layers.Conv2D)]
    if len(convs) != 3:
        raise CheckFailure(f"3 Conv2D layers expected, found {len(convs)}")
    for position, (layer, (filters, kernel)) in enumerate(zip(convs, CONV_SPECS), start=1):
        config = layer.get_config()
        found = (config["filters"], tuple(config["kernel_size"]), config["padding"], config["activation"])
        expected = (filters, kernel, "same", "relu")
        if found != expected:
            raise CheckFailure(f"Conv2D number {position}: expected (filters, kernel, padding, activation) = "
                               f"{expected}, found {found}")


@pytest.mark.points(1, group="hidden_architecture")
def test_pooling(student_model):
    """a MaxPooling2D with pool size 2x2 right after each Conv2D"""
    layers = layers_of(student_model)
    for position, layer in enumerate(layers):
        if isinstance(layer, keras.layers.Conv2D):
            following = layers[position + 1] if position + 1 < len(layers) else None
            if not isinstance(following, keras.layers.MaxPooling2D):
                raise CheckFailure(f"{layer.name} is followed by {type(following).__name__}, expected MaxPooling2D")
            if tuple(following.get_config()["pool_size"]) != (2, 2):
                raise CheckFailure(f"{following.name}: pool size expected (2, 2), found {following.get_config()['pool_size']}")


@pytest.mark.points(1, group="hidden_architecture")
def test_dense_head(student_model):
    """head: Flatten, Dense(128, ReLU), Dense(10, softmax), output shape (None, 10)"""
    dense = [layer for layer in layers_of(student_model) if isinstance(layer, keras.layers.Dense)]
    found = [(layer.get_config()["units"], layer.get_config()["activation"]) for layer in dense]
    if found != [(128, "relu"), (10, "softmax")]:
        raise CheckFailure(f"Dense layers expected [(128, 'relu'), (10, 'softmax')], found {found}")
    if tuple(student_model.output_shape) != (None, 10):
        raise CheckFailure(f"output shape expected (None, 10), found {student_model.output_shape}")


@pytest.mark.points(1, group="hidden_architecture")
def test_loss_and_optimizer(student_model):
    """compiled with loss categorical cross-entropy and optimizer Adam"""
    loss = student_model.loss
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    if str(loss_name).lower().replace("_", "") not in ("categoricalcrossentropy",):
        raise CheckFailure(f"loss expected categorical cross-entropy, found {loss_name!r}")
    optimizer = type(student_model.optimizer).__name__ if student_model.optimizer is not None else None
    if optimizer != "Adam":
        raise CheckFailure(f"optimizer expected Adam, found {optimizer}")


# --- accuracy ---------------------------------------------------------------------------

@pytest.mark.points(3, group="hidden_accuracy")
def test_test_accuracy(student_model):
    """test accuracy on the grader's held-out images at least the budget's threshold, for a model this run trained (step count)"""
    (x_train, _), _, _ = load_mnist_tagged()
    fewest, most = expected_training_steps(len(x_train))
    assert_trained_steps(student_model, fewest, most, f"the {budget.mode()} budget ({settings()['epochs']} epochs "
                         f"of {min(settings()['n_train'] or len(x_train), len(x_train))} images, batch size "
                         f"{settings()['batch_size']})")
    x_test, y_test, source = grader_test_split()  # images the notebook's loader never returned
    threshold = settings()["min_test_accuracy"][source]
    kit.check_accuracy(student_model, x_test.astype("float32")[..., np.newaxis] / 255.0, y_test, threshold,
                       on=f"held-out {source} test images", budget_note=f"the {budget.mode()} budget's threshold",
                       n_classes=10, batch_size=500, metric="test_accuracy")


# --- Grad-CAM on the grader's model ---------------------------------------------------------

@pytest.mark.points(1, group="hidden_gradcam")
def test_heatmap_shape_and_range(notebook, grader_model, rng):
    """heatmap: the named layer's height x width, values in [0, 1] (ReLU), normalised to peak 1"""
    model, model_file = grader_model
    for image, _, expected in informative_cases(model, rng, "grader_top_conv", 2):
        heatmap = returned_map(student_map(notebook, model_file, image, "grader_top_conv"), expected.shape,
                               "heatmap of the last conv layer (7x7)")
        if not (heatmap.min() >= 0 and heatmap.max() <= 1 + 1e-6):
            raise CheckFailure(f"heatmap values must lie in [0, 1], found [{heatmap.min():.3g}, {heatmap.max():.3g}]")
        if abs(heatmap.max() - 1) > 1e-5:
            raise CheckFailure(f"a map that is not all zero must peak at 1, found a peak of {heatmap.max():.4g}")


@pytest.mark.points(3, group="hidden_gradcam")
def test_predicted_class_matches_reference(notebook, grader_model, rng):
    """pred_index=None: Grad-CAM of the top-scoring class, ReLU of the channels weighted by mean gradients, as the reference"""
    model, model_file = grader_model
    for number, (image, _, expected) in enumerate(informative_cases(model, rng, "grader_top_conv", 4), start=1):
        actual = student_map(notebook, model_file, image, "grader_top_conv")
        assert_same_map(actual, expected, f"heatmap of image {number} for its predicted class")


@pytest.mark.points(2, group="hidden_gradcam")
def test_given_class_matches_reference(notebook, grader_model, rng):
    """an explicit pred_index: the Grad-CAM of that class, not of the predicted one, as the reference"""
    model, model_file = grader_model
    for image, class_index, expected in informative_cases(model, rng, "grader_top_conv", 3, other_class=True):
        actual = student_map(notebook, model_file, image, "grader_top_conv", class_index)
        assert_same_map(actual, expected, f"heatmap for pred_index={class_index}")


@pytest.mark.points(1, group="hidden_gradcam")
def test_named_layer_is_used(notebook, grader_model, rng):
    """last_conv_layer_name is honoured: the map of the layer named (grader_conv_2, 14x14), not of the last one"""
    model, model_file = grader_model
    for image, _, expected in informative_cases(model, rng, "grader_conv_2", 2):
        actual = student_map(notebook, model_file, image, "grader_conv_2")
        assert_same_map(actual, expected, "heatmap of layer 'grader_conv_2'")


# --- the heatmaps the notebook saved --------------------------------------------------------

def saved_heatmaps(submission_dir):
    saved = kit.npz_arrays(submission_dir / HEATMAPS_FILE, HEATMAPS_FILE, ("images", "heatmaps"),
                           "it was not saved by the notebook (did the overlay cell run?)")
    return (kit.returned_array(saved["images"], "saved images", ndim=4, shape_note="(5, 28, 28, 1)"),
            kit.returned_array(saved["heatmaps"], "saved heatmaps", ndim=3, shape_note="one 2-D map per image"))


def last_conv_name(model):
    convs = [layer.name for layer in layers_of(model) if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise CheckFailure("the saved model has no Conv2D layer")
    return convs[-1]


@pytest.mark.points(1, group="hidden_heatmaps")
def test_saved_heatmaps_shape(submission_dir, student_model):
    """saved: five images (5, 28, 28, 1) and five maps of the last conv layer's height x width, values in [0, 1]"""
    images, heatmaps = saved_heatmaps(submission_dir)
    size = tuple(student_model.get_layer(last_conv_name(student_model)).output.shape[1:3])
    kit.returned_array(images, "saved images", shape=(5, 28, 28, 1))
    kit.returned_array(heatmaps, "saved heatmaps", shape=(5,) + size, shape_note="the last conv layer's height x width")
    if not (heatmaps.min() >= 0 and heatmaps.max() <= 1 + 1e-6):
        raise CheckFailure("saved heatmaps must lie in [0, 1]")


@pytest.mark.points(1, group="hidden_heatmaps")
def test_saved_heatmaps_are_gradcam_of_saved_model(submission_dir, student_model):
    """each saved map is the Grad-CAM of the saved model's last conv layer for its image and predicted class"""
    images, heatmaps = saved_heatmaps(submission_dir)
    layer = last_conv_name(student_model)
    if len(images) != len(heatmaps):
        raise CheckFailure(f"{len(images)} saved images but {len(heatmaps)} heatmaps")
    for number, (image, heatmap) in enumerate(zip(images, heatmaps), start=1):
        expected, _, _ = reference_gradcam(student_model, image, layer)
        assert_same_map(heatmap, expected, f"saved heatmap {number}")
