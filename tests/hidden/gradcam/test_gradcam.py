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
from hwtools.checks import (CheckFailure, as_float_array, assert_accuracy, assert_close, assert_shape,
                            assert_trained_steps)
from hwtools.data import mnist_digits_fixture
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


def assert_same_map(actual, expected, name):
    """Tolerance on the normalised map, then the rank correlation of its cells."""
    actual = as_float_array(actual, name)
    assert_shape(actual, expected.shape, name)
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
    path = submission_dir / MODEL_FILE
    if not path.is_file():
        raise CheckFailure(f"{MODEL_FILE} was not saved by the notebook (did the training cell run?)")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:
        raise CheckFailure(f"could not load {MODEL_FILE}: {type(err).__name__}: {str(err)[:300]}") from None


@pytest.fixture(scope="module")
def student_model(submission_dir):
    return saved_model(submission_dir)


def layers_of(model):
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


# --- data -------------------------------------------------------------------------------

@pytest.mark.points(1, group="hidden_data")
def test_shuffle_is_a_permutation_that_keeps_pairs(notebook, rng):
    """shuffle_training_set: a new order, every image kept with its own label"""
    n = 400
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    result = notebook.call("shuffle_training_set", images, labels).value
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"shuffle_training_set must return (x, y), got {result!r:.80}")
    shuffled_x, shuffled_y = (as_float_array(v, name) for v, name in zip(result, ("x", "y")))
    assert_shape(shuffled_x, images.shape, "shuffled x")
    assert_shape(shuffled_y, labels.shape, "shuffled y")
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
    """scale_images: float32 (N, 28, 28, 1) equal to the pixels divided by 255"""
    images = rng.integers(0, 256, size=(37, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    scaled = notebook.call("scale_images", images).value
    if not isinstance(scaled, np.ndarray) or scaled.dtype != np.float32:
        raise CheckFailure(f"scale_images must return a float32 numpy array, got {getattr(scaled, 'dtype', type(scaled))}")
    assert_shape(scaled, (37, 28, 28, 1), "scaled images")
    assert_close(scaled[..., 0], images / 255.0, rtol=0, atol=1e-6, name="scaled pixels")


@pytest.mark.points(1, group="hidden_data")
def test_one_hot_labels(notebook, rng):
    """one_hot_labels: one row per label with a single 1 at the label's index"""
    labels = rng.integers(0, 10, size=53)
    labels[:10] = np.arange(10)
    encoded = as_float_array(notebook.call("one_hot_labels", labels).value, "one-hot labels")
    assert_shape(encoded, (53, 10), "one-hot labels")
    assert_close(encoded, np.eye(10)[labels], rtol=0, atol=0, name="one-hot labels")


# --- architecture of the saved model -------------------------------------------------------

@pytest.mark.points(1, group="hidden_architecture")
def test_layer_order(student_model):
    """layers in the order of the assignment, on (28, 28, 1) inputs"""
    found = [type(layer).__name__ for layer in layers_of(student_model)]
    if found != LAYER_ORDER:
        raise CheckFailure(f"layers expected {LAYER_ORDER}, found {found}")
    input_shape = tuple(student_model.input_shape[1:])
    if input_shape != (28, 28, 1):
        raise CheckFailure(f"input shape expected (28, 28, 1), found {input_shape}")


@pytest.mark.points(1, group="hidden_architecture")
def test_convolutions(student_model):
    """three Conv2D layers: 32, 64, 128 filters of 3x3, ReLU, padding same"""
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
    """a 2x2 MaxPooling2D after each convolution"""
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
    """Flatten, Dense(128, ReLU), Dense(10, softmax): 10 class probabilities"""
    dense = [layer for layer in layers_of(student_model) if isinstance(layer, keras.layers.Dense)]
    found = [(layer.get_config()["units"], layer.get_config()["activation"]) for layer in dense]
    if found != [(128, "relu"), (10, "softmax")]:
        raise CheckFailure(f"Dense layers expected [(128, 'relu'), (10, 'softmax')], found {found}")
    if tuple(student_model.output_shape) != (None, 10):
        raise CheckFailure(f"output shape expected (None, 10), found {student_model.output_shape}")


@pytest.mark.points(1, group="hidden_architecture")
def test_loss_and_optimizer(student_model):
    """compiled with categorical cross-entropy and Adam"""
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
    """accuracy of the saved model, trained by this run as the budget says, on the grader's held-out test images"""
    (x_train, _), _, _ = load_mnist_tagged()
    fewest, most = expected_training_steps(len(x_train))
    assert_trained_steps(student_model, fewest, most, f"the {budget.mode()} budget ({settings()['epochs']} epochs "
                         f"of {min(settings()['n_train'] or len(x_train), len(x_train))} images, batch size "
                         f"{settings()['batch_size']})")
    x_test, y_test, source = grader_test_split()  # images the notebook's loader never returned
    threshold = settings()["min_test_accuracy"][source]
    probabilities = student_model.predict(x_test.astype("float32")[..., np.newaxis] / 255.0, verbose=0, batch_size=500)
    assert_accuracy(probabilities, y_test, threshold, f"held-out {source} test images",
                    f"the {budget.mode()} budget's threshold")


# --- Grad-CAM on the grader's model ---------------------------------------------------------

@pytest.mark.points(1, group="hidden_gradcam")
def test_heatmap_shape_and_range(notebook, grader_model, rng):
    """a map of the named layer's height and width, values in [0, 1], peak 1"""
    model, model_file = grader_model
    for image, _, expected in informative_cases(model, rng, "grader_top_conv", 2):
        heatmap = as_float_array(student_map(notebook, model_file, image, "grader_top_conv"), "heatmap")
        assert_shape(heatmap, expected.shape, "heatmap of the last conv layer (7x7)")
        if not (np.isfinite(heatmap).all() and heatmap.min() >= 0 and heatmap.max() <= 1 + 1e-6):
            raise CheckFailure(f"heatmap values must lie in [0, 1], found [{heatmap.min():.3g}, {heatmap.max():.3g}]")
        if abs(heatmap.max() - 1) > 1e-5:
            raise CheckFailure(f"a map that is not all zero must peak at 1, found a peak of {heatmap.max():.4g}")


@pytest.mark.points(3, group="hidden_gradcam")
def test_predicted_class_matches_reference(notebook, grader_model, rng):
    """pred_index=None: Grad-CAM of the predicted class matches the reference on several images"""
    model, model_file = grader_model
    for number, (image, _, expected) in enumerate(informative_cases(model, rng, "grader_top_conv", 4), start=1):
        actual = student_map(notebook, model_file, image, "grader_top_conv")
        assert_same_map(actual, expected, f"heatmap of image {number} for its predicted class")


@pytest.mark.points(2, group="hidden_gradcam")
def test_given_class_matches_reference(notebook, grader_model, rng):
    """an explicit pred_index: the map of that class, not of the predicted one"""
    model, model_file = grader_model
    for image, class_index, expected in informative_cases(model, rng, "grader_top_conv", 3, other_class=True):
        actual = student_map(notebook, model_file, image, "grader_top_conv", class_index)
        assert_same_map(actual, expected, f"heatmap for pred_index={class_index}")


@pytest.mark.points(1, group="hidden_gradcam")
def test_named_layer_is_used(notebook, grader_model, rng):
    """last_conv_layer_name is honoured: the map of the second conv layer (14x14)"""
    model, model_file = grader_model
    for image, _, expected in informative_cases(model, rng, "grader_conv_2", 2):
        actual = student_map(notebook, model_file, image, "grader_conv_2")
        assert_same_map(actual, expected, "heatmap of layer 'grader_conv_2'")


# --- the heatmaps the notebook saved --------------------------------------------------------

def saved_heatmaps(submission_dir):
    path = submission_dir / HEATMAPS_FILE
    if not path.is_file():
        raise CheckFailure(f"{HEATMAPS_FILE} was not saved by the notebook (did the overlay cell run?)")
    with np.load(path, allow_pickle=False) as saved:
        if not {"images", "heatmaps"} <= set(saved.files):
            raise CheckFailure(f"{HEATMAPS_FILE} must hold 'images' and 'heatmaps', found {saved.files}")
        return as_float_array(saved["images"], "saved images"), as_float_array(saved["heatmaps"], "saved heatmaps")


def last_conv_name(model):
    convs = [layer.name for layer in layers_of(model) if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise CheckFailure("the saved model has no Conv2D layer")
    return convs[-1]


@pytest.mark.points(1, group="hidden_heatmaps")
def test_saved_heatmaps_shape(submission_dir, student_model):
    """five saved maps of the last conv layer's size, in [0, 1]"""
    images, heatmaps = saved_heatmaps(submission_dir)
    size = tuple(student_model.get_layer(last_conv_name(student_model)).output.shape[1:3])
    assert_shape(images, (5, 28, 28, 1), "saved images")
    assert_shape(heatmaps, (5,) + size, "saved heatmaps")
    if not (np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1 + 1e-6):
        raise CheckFailure("saved heatmaps must lie in [0, 1]")


@pytest.mark.points(1, group="hidden_heatmaps")
def test_saved_heatmaps_are_gradcam_of_saved_model(submission_dir, student_model):
    """each saved map is the Grad-CAM of the saved model for its image"""
    images, heatmaps = saved_heatmaps(submission_dir)
    layer = last_conv_name(student_model)
    if len(images) != len(heatmaps):
        raise CheckFailure(f"{len(images)} saved images but {len(heatmaps)} heatmaps")
    for number, (image, heatmap) in enumerate(zip(images, heatmaps), start=1):
        expected, _, _ = reference_gradcam(student_model, image, layer)
        assert_same_map(heatmap, expected, f"saved heatmap {number}")
