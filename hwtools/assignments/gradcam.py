"""Grad-CAM on MNIST (seed 000, Q7): the budget per mode and the notebook's plotting helpers.

Thresholds: see the calibration comments beside them. The grader measures the saved model
itself; the student's printed numbers never count.
"""
from __future__ import annotations

import numpy as np

from hwtools.data import load_mnist

# Artifacts the notebook saves beside itself and the grader reads.
MODEL_FILE = "gradcam_model.keras"
HEATMAPS_FILE = "gradcam_heatmaps.npz"
LAST_CONV_LAYER = "last_conv"
REAL_MNIST_TEST_SIZE = 10_000

# Test accuracy of the saved model, measured by the grader on the loader's whole test split.
# Calibration (the reference solution's training, seeds 0-5, offline fixture: 1500 training
# images, 297 test images; an untrained model scores 0.10-0.12):
#   ci, 2 epochs:    0.835 0.849 0.889 0.805 0.798 0.892 -> threshold 0.70 (min - 0.10)
#   grade, 3 epochs: 0.892 0.926 0.946 0.869 0.926 0.899 -> threshold 0.78 (min - 0.09)
#   full, 5 epochs (seeds 0-2): 0.926 0.956 0.970 -> threshold 0.85
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
           "min_test_accuracy": {"real": 0.85, "fixture": 0.70}},
}


def load_mnist_tagged():
    """MNIST through hwtools' loader, with "real" or "fixture" for the thresholds that apply."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    source = "real" if len(x_test) == REAL_MNIST_TEST_SIZE else "fixture"
    return (x_train, y_train), (x_test, y_test), source


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
