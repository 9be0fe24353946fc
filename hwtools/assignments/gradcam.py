"""Grad-CAM on MNIST (seed 000, Q7): the budget per mode and the notebook's plotting helpers.

Thresholds: see the calibration comments beside them. The grader measures the saved model
itself; the student's printed numbers never count.
"""
from __future__ import annotations

import math

import numpy as np

from hwtools import budget
from hwtools import data

# Artifacts the notebook saves beside itself and the grader reads.
MODEL_FILE = "gradcam_model.keras"
HEATMAPS_FILE = "gradcam_heatmaps.npz"
LAST_CONV_LAYER = "last_conv"

# Test accuracy of the saved model, measured by the grader on its held-out test images (HELD_OUT
# below: 200 of the fixture's 297 test images, 5000 of real MNIST's 10,000).
# Calibration on the held-out 200 (the reference solution's training, keras 3.15, offline
# fixture: 1500 training images, validation_split 0.1 as in the locked cell; an untrained model
# scores 0.10-0.12):
#   ci, 2 epochs, seeds 0-13: 0.82 0.84 0.875 0.75 0.80 0.85 0.865 0.86 0.745 0.82 0.875 0.72 0.85
#     0.83 (validation_split 0: 0.815-0.905) -> threshold 0.60 (min - 0.12)
#   grade, 3 epochs, seeds 0-13: 0.875 0.895 0.91 0.91 0.875 0.91 0.93 0.885 0.91
#     0.915 0.93 0.875 0.90 0.89
#     (validation_split 0: 0.905-0.945) -> threshold 0.78 (min - 0.09)
#   full, 5 epochs (seeds 0-2, on all 297 test images; full mode holds none out): 0.926 0.956
#     0.970 -> threshold 0.85
# Before the hold-out (on all 297 test images, seeds 0-5): ci 0.798-0.892, grade 0.869-0.946.
# "real": no real MNIST reaches this machine, so these are not measured here. This CNN is
# known to reach about 0.99 after 5 epochs on all 60,000 images (the assignment's target),
# about 0.97 after 3 epochs on 6,000 and about 0.93 after 2 epochs on 1,500; the
# thresholds keep margins of 0.005-0.08 below those figures. Recalibrate where MNIST is cached.
BUDGET = {
    "full": {"n_train": None, "epochs": 5, "batch_size": 64, "hidden_call_timeout_s": 60,
             "min_test_accuracy": {"real": 0.985, "fixture": 0.85}},
    "grade": {"n_train": 6000, "epochs": 3, "batch_size": 64, "hidden_call_timeout_s": 60,
              "min_test_accuracy": {"real": 0.93, "fixture": 0.78}},
    "ci": {"n_train": 1500, "epochs": 2, "batch_size": 64, "hidden_call_timeout_s": 60,
           "min_test_accuracy": {"real": 0.85, "fixture": 0.60}},
}


# The grader's own test images (issue 17, deliverable 6): the last HELD_OUT[source] images of
# the loader's test split. Under HW_MODE=grade and ci (the modes submissions run in) the
# notebook's loader (load_mnist_tagged) omits them, so the notebook never trains on the images
# its accuracy is measured on; the hidden suite measures on them alone (grader_test_split). In
# the full budget (students at home) the notebook sees the whole test split. Limits: the offline
# fixture is scikit-learn's digits, installed with scikit-learn, and hwtools.data (real MNIST:
# keras' cache or HW_MNIST_PATH, where readable) is importable in the sandbox, so a student who
# loads the raw data directly can still reach these images; the step count of the saved model
# (expected_training_steps) still catches a model trained longer than the budget says.
HELD_OUT = {"real": 5000, "fixture": 200}


def load_mnist_tagged():
    """MNIST through hwtools' loader, with "real" or "fixture" for the thresholds that apply;
    in the grade and ci budgets without the grader's held-out test images (``HELD_OUT``)."""
    (x_train, y_train), (x_test, y_test), source = data.load_mnist_tagged()
    if budget.mode() != "full":
        keep = len(x_test) - HELD_OUT[source]
        x_test, y_test = x_test[:keep], y_test[:keep]
    return (x_train, y_train), (x_test, y_test), source


def grader_test_split():
    """(x_test, y_test, source): the held-out test images the hidden suite measures accuracy on,
    which the notebook's loader never returns in the grade and ci budgets."""
    _, (x_test, y_test), source = data.load_mnist_tagged()
    return x_test[-HELD_OUT[source]:], y_test[-HELD_OUT[source]:], source


# The saved model must have been trained by this run as the notebook says: the Adam step count
# saved in the .keras file (optimizer.iterations) must be the budget's epochs x
# ceil(training images / batch size), for a validation split between 0 and MAX_VALIDATION_SPLIT
# (the locked training cell holds out 0.1; a student who holds out none or up to 0.2 trains as
# the budget says too). The training images are the first n_train of the loader's training
# split (all of it where the loader has fewer). Calibration (the reference's training, seeds
# 0-5, keras 3.15, saved and loaded back; every seed gives the same count):
#   ci, fixture, 1500 images, 2 epochs:  validation_split 0.1 -> 44 steps, 0.0 -> 48; window 38..48
#   grade, fixture, 1500 images, 3 epochs: validation_split 0.1 -> 66 steps, 0.0 -> 72; window 57..72
#   grade, real, 6000 images, 3 epochs: 0.1 -> 3 x ceil(5400/64) = 255 (computed); window 225..282
# Forged work measured in issue 17: a shipped model trained elsewhere took 348 steps, training
# on the test split 150.
MAX_VALIDATION_SPLIT = 0.2


def expected_training_steps(n_loader_train: int, settings=None) -> tuple[int, int]:
    """(fewest, most) optimizer steps of the budget's training on a loader with
    ``n_loader_train`` training images (``settings``: the budget, default the active mode's)."""
    settings = settings or budget.budget("gradcam")
    n = min(settings["n_train"] or n_loader_train, n_loader_train)
    per_epoch = [math.ceil(math.ceil(n * (1 - split)) / settings["batch_size"])
                 for split in (MAX_VALIDATION_SPLIT, 0.0)]
    return settings["epochs"] * per_epoch[0], settings["epochs"] * per_epoch[1]


def functional_model(model, input_shape=(28, 28, 1)):
    """The same model (its layers and weights, compiled the same way) as a functional Keras model.

    Keras 3 gives a Sequential model no ``model.output``, so the Keras Grad-CAM example,
    ``keras.Model(model.inputs, [model.get_layer(name).output, model.output])``, fails on one
    with "The layer sequential has never been called and thus has no defined output". The
    notebook's training cell passes the student's model through here, so the code students
    paste from keras.io works on it; a functional model comes back as it is."""
    import keras

    if not isinstance(model, keras.Sequential):
        return model
    if not model.built:  # a Sequential model without keras.Input: built on the notebook's images
        model.build((None, *input_shape))
    functional = keras.Model(model.inputs, model.outputs[0], name=model.name)
    if model.compiled:
        functional.compile_from_config(model.get_compile_config())
    return functional


def show_digits(images, labels, count: int = 10):
    """The first ``count`` images in a row, each titled with its label."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, count, figsize=(1.5 * count, 1.9))
    for axis, image, label in zip(axes, images[:count], labels[:count]):
        axis.imshow(np.squeeze(image), cmap="gray")
        axis.set_title(str(int(label)))
        axis.axis("off")
    fig.tight_layout()
    return fig


def upsample(heatmap, size) -> np.ndarray:
    """A coarse heatmap resized to an image's height and width (bilinear, for display)."""
    from scipy.ndimage import zoom

    heatmap = np.asarray(heatmap, dtype=float)
    factors = (size[0] / heatmap.shape[0], size[1] / heatmap.shape[1])
    return np.clip(zoom(heatmap, factors, order=1), 0, 1)


def show_overlays(images, heatmaps, titles, alpha: float = 0.45):
    """Each image in grey with its Grad-CAM heatmap laid over it in the jet colour map."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(images), figsize=(2.2 * len(images), 4.6))
    for column, (image, heatmap, title) in enumerate(zip(images, heatmaps, titles)):
        image = np.squeeze(image)
        axes[0, column].imshow(image, cmap="gray")
        axes[0, column].set_title(title)
        axes[1, column].imshow(image, cmap="gray")
        axes[1, column].imshow(upsample(heatmap, image.shape), cmap="jet", alpha=alpha)
        for axis in axes[:, column]:
            axis.axis("off")
    fig.tight_layout()
    return fig
