"""The hidden Grad-CAM suite, check by check: the reference and other correct styles pass,
each known bug fails the checks aimed at it (and only those, where the issue says so).

The checks are imported from the suite and called directly. Student-side variants live in
one sandboxed module (one process serves them all); saved models and heatmaps are built
here. The suite as a whole, through nbgrader and the runner, is run by test_gradcam_class.py.
"""
import json

import keras
import nbformat
import numpy as np
import pytest

from conftest import SuffixedModule, failed_checks, load_hidden_module, suffixed
from hwtools.assignments.gradcam import HEATMAPS_FILE, LAST_CONV_LAYER, MODEL_FILE
from hwtools.checks import CheckFailure
from hwtools.data import mnist_digits_fixture
from hwtools.grading.student import StudentModule

HIDDEN = "tests/hidden/gradcam/test_gradcam.py"
MODULE_HEADER = "import numpy as np\nimport keras\nimport tensorflow as tf\n\nLAST_CONV_LAYER = 'last_conv'\n\n"

KERAS_EXAMPLE = '''
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    grad_model = keras.models.Model(
        model.inputs, [model.get_layer(last_conv_layer_name).output, model.output]
    )
    with tf.GradientTape() as tape:
        last_conv_layer_output, preds = grad_model(img_array)
        if pred_index is None:
            pred_index = tf.argmax(preds[0])
        class_channel = preds[:, pred_index]
    grads = tape.gradient(class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap)
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return heatmap.numpy()
'''

# Grad-CAM bugs: (name, text of the reference, its replacement); the source's gradcam cell is the reference.
GRADCAM_BUGS = [
    ("no_relu", "heatmap = tf.maximum(heatmap, 0).numpy()", "heatmap = heatmap.numpy()"),
    ("channel_average", "pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))\n"
     "    heatmap = tf.squeeze(conv_values[0] @ pooled_grads[..., tf.newaxis], axis=-1)",
     "pooled_grads = tf.reduce_mean(grads, axis=-1)[0]\n"
     "    heatmap = tf.reduce_sum(conv_values[0], axis=-1) * pooled_grads"),
    ("ignores_pred_index", "if pred_index is None:\n            pred_index = tf.argmax(predictions[0])",
     "pred_index = tf.argmax(predictions[0])"),
    ("first_conv_layer", "if layer.name == last_conv_layer_name:",
     "if conv_output is None and isinstance(layer, keras.layers.Conv2D):"),
    ("random_map", "return heatmap / peak if peak > 0 else heatmap",
     "noise = np.random.default_rng(0).random(heatmap.shape)\n    return noise / noise.max()"),
]
GRADCAM_CHECKS = ["test_heatmap_shape_and_range", "test_predicted_class_matches_reference",
                  "test_given_class_matches_reference", "test_named_layer_is_used"]
GRADCAM_MUST_FAIL = {
    "no_relu": set(GRADCAM_CHECKS),
    "channel_average": set(GRADCAM_CHECKS) - {"test_heatmap_shape_and_range"},
    "ignores_pred_index": {"test_given_class_matches_reference"},
    "first_conv_layer": set(GRADCAM_CHECKS),
    "random_map": {"test_predicted_class_matches_reference", "test_given_class_matches_reference",
                   "test_named_layer_is_used"},
}

DATA_BUGS = [
    ("not_shuffled", "shuffle", "return x[order], y[order]", "return x, y", "test_shuffle_is_a_permutation_that_keeps_pairs"),
    ("pairs_broken", "shuffle", "return x[order], y[order]", "return x[order], y", "test_shuffle_is_a_permutation_that_keeps_pairs"),
    ("not_divided", "prepare", '(np.asarray(x, dtype="float32") / 255.0)', 'np.asarray(x, dtype="float32")', "test_scale_images"),
    ("float64", "prepare", 'dtype="float32") / 255.0', 'dtype="float64") / 255.0', "test_scale_images"),
    ("no_channel_axis", "prepare", "/ 255.0)[..., np.newaxis]", "/ 255.0)", "test_scale_images"),
    ("integer_labels", "prepare", "return keras.utils.to_categorical(y, num_classes).astype(\"float32\")",
     "return np.asarray(y, dtype=float)[:, None]", "test_one_hot_labels"),
]

# Architecture defects, each losing exactly the checks listed (the issue: "those points only").
ARCHITECTURE_BUGS = [
    ("missing_pooling", "keras.layers.MaxPooling2D((2, 2)),\n        keras.layers.Flatten()",
     "keras.layers.Flatten()", {"test_layer_order", "test_pooling"}),
    ("valid_padding", 'Conv2D(32, (3, 3), activation="relu", padding="same")',
     'Conv2D(32, (3, 3), activation="relu", padding="valid")', {"test_convolutions"}),
    ("64_for_128", "Conv2D(128,", "Conv2D(64,", {"test_convolutions"}),
    ("no_softmax", 'Dense(10, activation="softmax")', "Dense(10)", {"test_dense_head"}),
    ("sgd_mse", 'loss="categorical_crossentropy", optimizer="adam"', 'loss="mse", optimizer="sgd"',
     {"test_loss_and_optimizer"}),
]
ARCHITECTURE_CHECKS = ["test_layer_order", "test_convolutions", "test_pooling", "test_dense_head",
                       "test_loss_and_optimizer"]


@pytest.fixture(scope="module")
def hidden(repo):
    return load_hidden_module(repo, HIDDEN, "hidden_gradcam_suite")


@pytest.fixture(scope="module")
def source_cells(repo):
    """grade_id -> the source notebook's solution code, markers removed."""
    notebook = nbformat.read(str(repo.source / "gradcam" / "gradcam.ipynb"), as_version=4)
    cells = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id:
            cells[grade_id] = "\n".join(l for l in cell.source.splitlines() if "### " not in l)
    return cells


def mutate(code: str, old: str, new: str) -> str:
    assert old in code, f"mutation target {old!r} not in the reference"
    return code.replace(old, new, 1)


def renamed(code: str, suffix: str) -> str:
    """Every function of a cell renamed with a variant suffix (one module holds all variants)."""
    code = suffixed(code, ("make_gradcam_heatmap", "shuffle_training_set", "scale_images", "one_hot_labels"), suffix)
    return code


@pytest.fixture(scope="module")
def variants_code(repo, source_cells) -> str:
    """One module defining every variant under a suffixed name."""
    alice = json.loads((repo.sample_class / "alice_correct" / "gradcam" / "cells.json").read_text())["gradcam.ipynb"]
    parts = [renamed(source_cells["gradcam"], "reference"), renamed(KERAS_EXAMPLE, "keras_example"),
             renamed(alice["gradcam"], "channel_loop"), renamed(source_cells["shuffle"], "reference"),
             renamed(source_cells["prepare"], "reference")]
    parts += [renamed(mutate(source_cells["gradcam"], old, new), name) for name, old, new in GRADCAM_BUGS]
    parts += [renamed(mutate(source_cells[cell], old, new), name) for name, cell, old, new, _ in DATA_BUGS]
    return MODULE_HEADER + "\n\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def variants(variants_code, hidden, tmp_path_factory):
    """(sandboxed module of every variant, the grader's model) for calling the checks."""
    folder = tmp_path_factory.mktemp("gradcam-variants")
    (folder / "variants.py").write_text(variants_code)
    model = hidden.fixed_weight_model()
    model.save(folder / hidden.GRADER_MODEL_FILE)
    with StudentModule(folder / "variants.py", timeout_s=60) as module:
        yield module, (model, hidden.ModelFile(hidden.GRADER_MODEL_FILE))


@pytest.mark.parametrize("suffix", ["reference", "keras_example", "channel_loop"])
def test_correct_gradcam_passes_every_gradcam_check(hidden, variants, suffix):
    module, grader_model = variants
    assert failed_checks(hidden, GRADCAM_CHECKS, notebook=SuffixedModule(module, suffix), grader_model=grader_model,
                         rng=np.random.default_rng(7)) == set()


@pytest.mark.parametrize("name", [bug[0] for bug in GRADCAM_BUGS])
def test_each_gradcam_bug_fails_its_checks(hidden, variants, name):
    module, grader_model = variants
    failed = failed_checks(hidden, GRADCAM_CHECKS, notebook=SuffixedModule(module, name), grader_model=grader_model,
                           rng=np.random.default_rng(7))
    assert failed == GRADCAM_MUST_FAIL[name], f"{name}: failed {failed}"


def test_correct_data_preparation_passes(hidden, variants):
    module, _ = variants
    checks = {bug[4] for bug in DATA_BUGS}
    assert failed_checks(hidden, checks, notebook=SuffixedModule(module, "reference"), rng=np.random.default_rng(3)) == set()


@pytest.mark.parametrize("name,check", [(bug[0], bug[4]) for bug in DATA_BUGS])
def test_each_data_bug_fails_its_check(hidden, variants, name, check):
    module, _ = variants
    assert failed_checks(hidden, {check}, notebook=SuffixedModule(module, name), rng=np.random.default_rng(3)) == {check}


def saved_student_model(source_cells, tmp_path, code: str):
    """Build and save (untrained) the model of a build_model cell, as the notebook would."""
    namespace = {"keras": keras, "LAST_CONV_LAYER": LAST_CONV_LAYER}
    exec(code, namespace)
    tmp_path.mkdir(parents=True, exist_ok=True)
    namespace["build_model"]().save(tmp_path / MODEL_FILE)
    return tmp_path


def test_reference_architecture_passes_and_untrained_accuracy_fails(hidden, source_cells, tmp_path):
    folder = saved_student_model(source_cells, tmp_path, source_cells["model"])
    model = hidden.saved_model(folder)
    assert failed_checks(hidden, ARCHITECTURE_CHECKS, student_model=model) == set()
    assert failed_checks(hidden, ["test_test_accuracy"], student_model=model) == {"test_test_accuracy"}


@pytest.mark.parametrize("name,old,new,must_fail", ARCHITECTURE_BUGS, ids=[b[0] for b in ARCHITECTURE_BUGS])
def test_each_architecture_defect_loses_its_points_only(hidden, source_cells, tmp_path, name, old, new, must_fail):
    folder = saved_student_model(source_cells, tmp_path, mutate(source_cells["model"], old, new))
    assert failed_checks(hidden, ARCHITECTURE_CHECKS, student_model=hidden.saved_model(folder)) == must_fail


def test_a_missing_model_fails_with_a_message(hidden, tmp_path):
    with pytest.raises(CheckFailure, match="was not saved"):
        hidden.saved_model(tmp_path)


@pytest.mark.parametrize("maps,must_fail", [
    ("reference", set()),
    ("no_relu", {"test_saved_heatmaps_shape", "test_saved_heatmaps_are_gradcam_of_saved_model"}),
    ("random_map", {"test_saved_heatmaps_are_gradcam_of_saved_model"}),
    ("first_conv_layer", {"test_saved_heatmaps_shape", "test_saved_heatmaps_are_gradcam_of_saved_model"}),
])
def test_saved_heatmaps_must_be_the_gradcam_of_the_saved_model(hidden, source_cells, variants_code, tmp_path, maps,
                                                              must_fail):
    folder = saved_student_model(source_cells, tmp_path, source_cells["model"])
    model = hidden.saved_model(folder)
    (_, _), (x_test, _) = mnist_digits_fixture()
    images = x_test[:5].astype("float32")[..., np.newaxis] / 255.0
    namespace = {}
    exec(variants_code, namespace)  # the project's own variants, run here to use this model
    gradcam = namespace[f"make_gradcam_heatmap__{maps}"]
    np.savez(folder / HEATMAPS_FILE, images=images,
             heatmaps=np.stack([gradcam(image[np.newaxis], model, LAST_CONV_LAYER) for image in images]))
    failed = failed_checks(hidden, ["test_saved_heatmaps_shape", "test_saved_heatmaps_are_gradcam_of_saved_model"],
                           submission_dir=folder, student_model=model)
    assert failed == must_fail
