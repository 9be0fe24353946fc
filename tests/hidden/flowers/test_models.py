"""Hidden checks of the input pipeline and of what the notebook saved: the datasets it trained on,
flower_dataset's validation/test batches, and the two models (head stage and fine-tuned), loaded,
inspected and measured by the grader."""
from pathlib import Path

import numpy as np
import pytest

from hwtools import budget
from hwtools.assignments.flowers import CLASS_NAMES, DATASETS_FILE, HEAD_MODEL_FILE, MANIFEST_FILE, MODEL_FILE
from hwtools.checks import CheckFailure
from hwtools.grading import kit

KNOWN_PIXELS = np.array([0.0, 1.0, 63.75, 127.5, 200.0, 255.0], dtype="float32")
# mean absolute difference (0-255 scale) between a yielded image and its file decoded directly with
# the closest interpolation; measured on the grader's images: a resize with the same method 0,
# JPEG decoders differ by < 1; the smallest random flip + rotation (RandomRotation(0.1)) 8.5 at
# 32 px, 10.8 at 96 px; rescaling to [0, 1] 52
SAME_IMAGE_TOLERANCE = 2.0


def part_files(paths) -> set:
    """(part, class, file name) of each path: the last three components."""
    return {tuple(Path(p).parts[-3:]) for p in paths}


def recorded_paths(record: dict, part: str) -> list:
    """The files a dataset read, by the record's contract: a list of path strings (none when absent)."""
    paths = record.get(part, [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise kit.ContractBroken(f"artifacts/{DATASETS_FILE}: {part}", "be a list of file paths (save_datasets_record)",
                                 kit.describe(paths))
    return paths


def split_lists(saved) -> dict:
    """The manifest's {part: {class: [file names]}}, by its contract (save_split_manifest)."""
    manifest = kit.required_keys(saved.json(MANIFEST_FILE), ("splits",), f"artifacts/{MANIFEST_FILE}")["splits"]
    shown = f"artifacts/{MANIFEST_FILE}: splits"
    if not isinstance(manifest, dict) or not all(isinstance(classes, dict) and all(
            isinstance(files, list) and all(isinstance(f, str) for f in files) for files in classes.values())
            for classes in manifest.values()):
        raise kit.ContractBroken(shown, "map each part to {class: [file names]} (save_split_manifest)",
                                 kit.describe(manifest))
    return manifest


@pytest.mark.points(1, group="hidden_pipeline")
def test_validation_from_validation_folder(saved):
    """the validation dataset reads data/validation only, never the test folder"""
    record = saved.json(DATASETS_FILE)
    parts = folders_of(recorded_paths(record, "validation"))
    if not parts:
        raise CheckFailure("no validation dataset recorded: pass validation=... to save_datasets_record")
    if parts != {"validation"}:
        raise CheckFailure(f"the validation dataset read files from the folder(s) {sorted(parts)}: it must read "
                           "data/validation only (validating on the test folder makes the test score meaningless)")


def folders_of(paths) -> set:
    """The part folder (train, validation, test) each path lies in."""
    return {Path(p).parts[-3] if len(Path(p).parts) >= 3 else "?" for p in paths}


@pytest.mark.points(1, group="hidden_pipeline")
def test_datasets_match_the_split(saved):
    """train, validation and test datasets read exactly the files of their part of your split, with no image in two parts"""
    manifest = split_lists(saved)
    record = saved.json(DATASETS_FILE)
    names = {}
    for part in ("train", "validation", "test"):
        expected = {(part, name, f) for name in CLASS_NAMES for f in manifest.get(part, {}).get(name, [])}
        found = part_files(recorded_paths(record, part))
        if found != expected:
            raise CheckFailure(f"the {part} dataset read {len(found)} files, the {part} part of your split holds "
                               f"{len(expected)} ({len(found - expected)} not in it): build each dataset from its folder")
        for _, name, file_name in expected:
            names.setdefault((name, file_name), []).append(part)
    leaked = sorted(k for k, v in names.items() if len(v) > 1)
    if leaked:
        raise CheckFailure(f"{len(leaked)} image(s) are in two parts of your split, e.g. {leaked[0]}")


@pytest.mark.points(1, group="hidden_pipeline")
def test_evaluation_batches_are_the_images(pipeline_run):
    """flower_dataset(..., training=False) yields the decoded images, unaugmented, with their labels, the same on every pass"""
    first, second = pipeline_run["passes"]["images"]
    labels = pipeline_run["labels"]
    if first.shape != second.shape or not np.allclose(first, second, atol=1e-3):
        raise CheckFailure("two passes over the same validation/test folder gave different images: random "
                           "augmentation reaches validation and test data; keep it inside the model, where "
                           "Keras applies it to training batches only")
    if first.ndim != 4 or first.shape[0] != len(labels) or first.shape[1:] != (pipeline_run["side"],) * 2 + (3,):
        raise CheckFailure(f"flower_dataset yielded images of shape {first.shape} for {len(labels)} files of "
                           f"{pipeline_run['side']} px: one (side, side, 3) image per file, each file once")
    differences = np.min([np.abs(first[:, None] - decoded[None]).mean(axis=(2, 3, 4))
                          for decoded in pipeline_run["decoded"].values()], axis=0)  # yielded x files
    closest = differences.argmin(axis=1)
    distance = differences.min(axis=1)
    unmatched = int(np.sum(distance > SAME_IMAGE_TOLERANCE))
    if unmatched:
        hint = " (they look rescaled: keep raw pixels, the model preprocesses)" if first.max() <= 1.0 else ""
        raise CheckFailure(f"{unmatched} of {len(first)} images that flower_dataset(..., training=False) yields "
                           f"are none of the image files as decoded and resized (closest differs by "
                           f"{distance.max():.1f} on the 0-255 scale){hint}: validation and test data must be "
                           "the images as they are, never augmented")
    if sorted(closest) != list(range(len(labels))):
        raise CheckFailure("flower_dataset(..., training=False) did not yield every image file exactly once")
    yielded_labels = np.asarray(pipeline_run["passes"]["labels"][0]).reshape(-1)
    if yielded_labels.shape != labels.shape or not np.array_equal(yielded_labels, labels[closest]):
        raise CheckFailure("the labels flower_dataset yields are not the class indices of the images "
                           f"(class_names={list(CLASS_NAMES)}, label_mode='int')")


def mobilenet_base(model, file_name):
    bases = [layer for layer in model.layers if layer.name.startswith("mobilenetv2")]
    if len(bases) != 1:
        raise CheckFailure(f"{file_name}: expected one MobileNetV2 base (keras.applications.MobileNetV2, "
                           f"include_top=False) inside the model, found {len(bases)}")
    return bases[0]


@pytest.mark.points(1, group="hidden_model")
def test_base_and_head(saved):
    """the final model: one MobileNetV2 base (no top), then GlobalAveragePooling2D, Dropout, Dense(5, softmax)"""
    model = saved.model(MODEL_FILE)
    base = mobilenet_base(model, MODEL_FILE)
    after = [layer for layer in model.layers[model.layers.index(base) + 1:]]
    kinds = [type(layer).__name__ for layer in after]
    if kinds != ["GlobalAveragePooling2D", "Dropout", "Dense"]:
        raise CheckFailure(f"the head after the base is {kinds}; expected GlobalAveragePooling2D, Dropout, Dense")
    dense = after[-1]
    activation = getattr(dense.activation, "__name__", str(dense.activation))
    if dense.units != len(CLASS_NAMES) or activation != "softmax":
        raise CheckFailure(f"the last layer is Dense({dense.units}, {activation}); expected Dense(5, softmax)")


def preprocessing_of(model, pixels):
    """What the model does to pixels before its base at inference (augmentation is off then):
    the part of the model from its input to the tensor the base is called on, so operations on
    tensors (keras.applications' preprocess_input, x / 127.5 - 1) count as well as layers."""
    import keras

    base = mobilenet_base(model, MODEL_FILE)
    feeding = [tensor for node in base._inbound_nodes for tensor in node.input_tensors]
    if len(feeding) != 1:
        raise CheckFailure(f"{MODEL_FILE}: the MobileNetV2 base must be called once, on one tensor (found "
                           f"{len(feeding)} inputs)")
    try:
        before_base = keras.Model(model.inputs, feeding[0])
        return np.asarray(before_base(pixels, training=False), dtype=float)
    except Exception as err:  # the student's model, whatever keras raises
        raise CheckFailure(f"the part of the model before the base cannot run on {pixels.shape} pixels at inference: "
                           f"{type(err).__name__}: {err}"[:500]) from None


@pytest.mark.points(1, group="hidden_model")
def test_preprocessing_is_mobilenet_v2s(saved):
    """inside the model, raw pixels [0, 255] become x / 127.5 - 1 before the base, as MobileNetV2's preprocess_input"""
    import keras

    model = saved.model(MODEL_FILE)
    side = model.input_shape[1]
    pixels = np.broadcast_to(np.resize(KNOWN_PIXELS, (side, side))[..., None], (1, side, side, 3)).astype("float32")
    expected = keras.applications.mobilenet_v2.preprocess_input(pixels.copy())
    found = preprocessing_of(model, pixels)
    if found.shape != expected.shape:
        raise CheckFailure(f"pixels of shape {pixels.shape} reach the base with shape {found.shape}: the "
                           "preprocessing must keep the image's shape (x / 127.5 - 1)")
    if not np.allclose(found, expected, atol=1e-4):
        sample = {float(p): round(float(v), 4) for p, v in zip(pixels[0, 0, :6, 0], found[0, 0, :6, 0])}
        hint = " (that is rescaling to [0, 1])" if np.allclose(found, pixels / 255, atol=1e-4) else ""
        raise CheckFailure(f"pixel values {list(sample)} reach the base as {list(sample.values())}{hint}; "
                           "MobileNetV2 expects x / 127.5 - 1 (values in [-1, 1])")


@pytest.mark.points(1, group="hidden_model")
def test_base_frozen_in_head_stage(saved):
    """in the head stage (artifacts/head_model.keras) the base is frozen: only the head trains"""
    model = saved.model(HEAD_MODEL_FILE)
    base = mobilenet_base(model, HEAD_MODEL_FILE)
    if base.trainable_weights:
        raise CheckFailure(f"the base had {len(base.trainable_weights)} trainable weight tensors in the head stage: "
                           "set base.trainable = False before training the new head")
    if not model.trainable_weights:
        raise CheckFailure("nothing was trainable in the head stage: the new head must train")


@pytest.mark.points(1, group="hidden_model")
def test_only_top_unfrozen_for_fine_tuning(saved):
    """fine-tuning unfreezes the top of the base only: the bottom stays frozen and unchanged since the head stage"""
    final = mobilenet_base(saved.model(MODEL_FILE), MODEL_FILE)
    head = mobilenet_base(saved.model(HEAD_MODEL_FILE), HEAD_MODEL_FILE)
    trainable = [layer.name for layer in final.layers if layer.trainable_weights]
    frozen = [layer.name for layer in final.layers if layer.non_trainable_weights and not layer.trainable_weights]
    if not trainable:
        raise CheckFailure("the base of the final model has no trainable layer: unfreeze its top for fine-tuning")
    if final.layers[1].trainable_weights or not frozen:
        raise CheckFailure("the whole base was unfrozen for fine-tuning: keep its lower layers frozen")
    head_layers = {layer.name: layer for layer in head.layers}
    missing = [name for name in frozen if name not in head_layers]
    if missing:
        raise CheckFailure(f"the head stage's base has no layer {missing[0]}: both models must share one MobileNetV2 base")
    changed = [layer.name for layer in final.layers if layer.name in frozen and not all(
        np.array_equal(a, b) for a, b in zip(layer.get_weights(), head_layers[layer.name].get_weights()))]
    if changed:
        raise CheckFailure(f"frozen layers changed between the head stage and the final model, e.g. {changed[0]}")


@pytest.mark.points(1, group="hidden_model")
def test_accuracy_on_grader_images(saved, grader_test_images):
    """the final model's accuracy on test images the grader decodes itself at least the budget's threshold"""
    images, labels, source, what = grader_test_images
    threshold = budget.budget("flowers")["min_test_accuracy"].get(source)
    model = saved.model(MODEL_FILE)
    if threshold is None:
        return  # the full budget offline (random base at alpha 1.0) grades no accuracy: see BUDGET
    if tuple(model.input_shape[1:]) not in ((None, None, 3), images.shape[1:]):
        raise CheckFailure(f"the model takes inputs of shape {model.input_shape[1:]}; expected {images.shape[1:]}")
    kit.check_accuracy(model, images, labels, threshold, on=what, n_classes=len(CLASS_NAMES), batch_size=50,
                       metric="test_accuracy",
                       budget_note=f"the {budget.mode()} budget's threshold for {source} data")
