"""The hidden flowers suite on the source notebook executed once in the ci budget: the reference
gets full marks, and the seed's bugs (validation read from the test folder, rescaling to [0, 1],
which also costs the accuracy, a base left trainable in the head stage, a leaky unseeded split,
augmentation applied to every part) lose the checks aimed at them; the pipeline check itself on
hand-made batches."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import executed_copy, load_hidden_module, suite_result
from hwtools.course.sample_class import fill_cells

FULL = 10.0
NOTEBOOK = "flowers.ipynb"
LEAKY_SPLIT = '''
def split_dataset(src, dst, ratios=(0.8, 0.1, 0.1), seed=0):
    src, dst = Path(src), Path(dst)
    for class_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        files = sorted(class_dir.iterdir())
        n_held_out = round(len(files) * ratios[1])
        parts = {"train": files[:len(files) - n_held_out], "validation": random.sample(files, n_held_out),
                 "test": random.sample(files, n_held_out)}
        for split, part in parts.items():
            target = dst / split / class_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for path in part:
                shutil.copy2(path, target / path.name)
'''

# the answer key's ImageDataGenerator pattern: every part augmented, differently on each pass
AUGMENT_EVERY_PART = '''
def flower_dataset(folder, image_size, batch_size, training, seed=0):
    raw = keras.utils.image_dataset_from_directory(folder, image_size=image_size, batch_size=batch_size,
                                                   label_mode="int", class_names=list(CLASS_NAMES),
                                                   shuffle=training, seed=seed)
    flips = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    dataset = raw.map(lambda images, labels: (flips(images, training=True), labels)).prefetch(2)
    dataset.file_paths = raw.file_paths
    return dataset
'''
# augmented once, then cached: the same on every pass, yet not the images
AUGMENT_THEN_CACHE = AUGMENT_EVERY_PART.replace(".prefetch(2)", ".cache().prefetch(2)")


@pytest.fixture(scope="module")
def executed(repo, tmp_path_factory):
    """The source folder after running its notebook top to bottom (ci budget)."""
    return executed_copy(repo.source / "flowers", NOTEBOOK, tmp_path_factory.mktemp("flowers") / "reference")


def graded(repo, folder) -> dict:
    return suite_result(repo, "flowers", folder)


def test_reference_solution_gets_full_marks(repo, executed):
    result = graded(repo, executed)
    assert result["failed"] == set() and result["score"] == FULL
    assert not (executed / "grader_split_tree").exists(), "the grader's split tree is cleaned up"


def test_the_seed_answer_bugs_lose_their_checks(repo, executed, tmp_path):
    import keras

    folder = tmp_path / "seed_bugs"
    shutil.copytree(executed, folder)
    artifacts = folder / "artifacts"
    record = json.loads((artifacts / "datasets.json").read_text())
    record["validation"] = record["test"]
    (artifacts / "datasets.json").write_text(json.dumps(record))
    final = keras.saving.load_model(artifacts / "model.keras")
    rescaling = final.get_layer("mobilenet_v2_preprocessing")
    rescaling.scale, rescaling.offset = 1 / 255, 0.0
    final.save(artifacts / "model.keras")
    head = keras.saving.load_model(artifacts / "head_model.keras")
    next(layer for layer in head.layers if layer.name.startswith("mobilenetv2")).trainable = True
    head.save(artifacts / "head_model.keras")
    fill_cells(folder / NOTEBOOK, {"split": LEAKY_SPLIT, "pipeline": AUGMENT_EVERY_PART})

    result = graded(repo, folder)
    assert result["failed"] == {"test_validation_from_validation_folder", "test_datasets_match_the_split",
                                "test_preprocessing_is_mobilenet_v2s",
                                "test_base_frozen_in_head_stage", "test_counts_per_class_and_part",
                                "test_parts_disjoint_and_complete", "test_deterministic_for_a_seed",
                                "test_source_intact_and_rerun_idempotent", "test_evaluation_batches_are_the_images",
                                "test_accuracy_on_grader_images"}
    assert "that is rescaling to [0, 1]" in result["messages"]["test_preprocessing_is_mobilenet_v2s"]
    assert "must read data/validation only" in result["messages"]["test_validation_from_validation_folder"]
    assert "trainable weight tensors in the head stage" in result["messages"]["test_base_frozen_in_head_stage"]
    assert "more than one part" in result["messages"]["test_parts_disjoint_and_complete"]
    assert "two passes" in result["messages"]["test_evaluation_batches_are_the_images"]
    assert "on 100 of the grader's own fixture images is below 0.85" in result["messages"]["test_accuracy_on_grader_images"]


def test_augmentation_cached_into_evaluation_data_loses_a_point(repo, executed, tmp_path):
    folder = Path(shutil.copytree(executed, tmp_path / "augmented_evaluation"))
    fill_cells(folder / NOTEBOOK, {"pipeline": AUGMENT_THEN_CACHE})
    result = graded(repo, folder)
    assert result["failed"] == {"test_evaluation_batches_are_the_images"} and result["score"] == FULL - 1
    assert "never augmented" in result["messages"]["test_evaluation_batches_are_the_images"]


@pytest.fixture(scope="module")
def pipeline_check(repo):
    """The pipeline check and its fixture's helpers, called on batches made here."""
    hidden = load_hidden_module(repo, "tests/hidden/flowers/conftest.py", "hidden_flowers_conftest")
    return hidden, load_hidden_module(repo, "tests/hidden/flowers/test_models.py", "hidden_flowers_models")


def pipeline_run(hidden, tmp_path, images_of, labels_of=lambda labels: labels, side=32):
    """What the check sees when flower_dataset yields images_of(decoded files), twice."""
    from hwtools.assignments.flowers import generate_flower_fixture

    paths, labels = hidden.labelled_files(generate_flower_fixture(tmp_path / "tree", 3, seed=5))
    decoded = {method: hidden.decoded_images(paths, side, method) for method in hidden.INTERPOLATIONS}
    passes = [images_of(decoded, np.random.default_rng(n)) for n in range(2)]
    return {"side": side, "labels": labels, "decoded": decoded,
            "passes": {"images": passes, "labels": [labels_of(labels)] * 2}}


@pytest.mark.parametrize("images_of, labels_of, message", [
    (lambda d, rng: d["nearest"][::-1], lambda labels: labels[::-1], None),  # another interpolation, another order
    (lambda d, rng: d["bilinear"] / 255, lambda labels: labels, "they look rescaled"),
    (lambda d, rng: d["bilinear"][:, :, ::-1], lambda labels: labels, "never augmented"),
    (lambda d, rng: d["bilinear"] + rng.normal(0, 5, d["bilinear"].shape), lambda labels: labels, "two passes"),
    (lambda d, rng: d["bilinear"], lambda labels: (labels + 1) % 5, "labels"),
    (lambda d, rng: d["bilinear"][[0] * 15], lambda labels: labels, "exactly once"),
], ids=["other_interpolation", "rescaled", "flipped", "random_each_pass", "wrong_labels", "one_file_repeated"])
def test_pipeline_check_accepts_the_images_only(pipeline_check, tmp_path, images_of, labels_of, message):
    from hwtools.checks import CheckFailure

    hidden, checks = pipeline_check
    run = pipeline_run(hidden, tmp_path, images_of, labels_of)
    if message is None:
        checks.test_evaluation_batches_are_the_images(run)
    else:
        with pytest.raises(CheckFailure, match=message):
            checks.test_evaluation_batches_are_the_images(run)


def tiny_flowers_model(preprocess):
    """A small model shaped like the assignment's (augmentation, preprocessing, a base named like
    MobileNetV2's, the head), with ``preprocess`` applied to the tensor before the base."""
    import keras

    base_inputs = keras.Input((16, 16, 3))
    base = keras.Model(base_inputs, keras.layers.Conv2D(4, 3)(base_inputs), name="mobilenetv2_0.35_16")
    inputs = keras.Input((16, 16, 3))
    x = base(preprocess(keras.layers.RandomFlip("horizontal")(inputs)), training=False)
    x = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))


@pytest.mark.parametrize("name,preprocess,message", [
    ("rescaling_layer", lambda x: __import__("keras").layers.Rescaling(1 / 127.5, offset=-1)(x), None),
    # the keras.io transfer-learning guide's way: operations on the tensor, no layer of their own
    ("keras_io_preprocess_input", lambda x: __import__("keras").applications.mobilenet_v2.preprocess_input(x), None),
    ("arithmetic_on_the_tensor", lambda x: x / 127.5 - 1.0, None),
    ("rescaled_to_0_1", lambda x: __import__("keras").layers.Rescaling(1 / 255)(x),
     r"reach the base as \[0.0, 0.0039, 0.25, 0.5, 0.7843, 1.0\] \(that is rescaling to \[0, 1\]\)"),
])
def test_preprocessing_check_sees_operations_on_tensors_too(pipeline_check, tmp_path, name, preprocess, message):
    """The preprocessing is probed from the model's input to the tensor its base is called on:
    keras.applications' preprocess_input on the tensor (no layer of its own) is MobileNetV2's
    preprocessing too (before, the check called the layers before the base one by one, saw
    the pixels unchanged and took the point away)."""
    from hwtools.assignments.flowers import MODEL_FILE
    from hwtools.checks import CheckFailure
    from hwtools.grading.artifacts import SavedArtifacts

    tiny_flowers_model(preprocess).save(tmp_path / MODEL_FILE)
    _, checks = pipeline_check
    saved = SavedArtifacts(tmp_path)
    if message is None:
        checks.test_preprocessing_is_mobilenet_v2s(saved)
    else:
        with pytest.raises(CheckFailure, match=message):
            checks.test_preprocessing_is_mobilenet_v2s(saved)
