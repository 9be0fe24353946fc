"""Fixtures of the flowers suite: the saved artifacts of the executed submission, split_dataset
and flower_dataset run in the student's sandbox on image trees the grader made, and the grader's
own test images."""
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from hwtools import budget
from hwtools.assignments import flowers as assignment
from hwtools.grading.artifacts import SavedArtifacts
from hwtools.checks import CheckFailure
from hwtools.grading import kit

# the grader's image trees, made inside the submission folder: the sandbox sees only that
TREE = "grader_split_tree"
PIPELINE_TREE = "grader_pipeline_tree"
PIPELINE_IMAGES_PER_CLASS = 3
PIPELINE_BATCH_SIZE = 4  # does not divide the 15 images: a partial last batch
PIPELINE_PASSES = 2
GRADER_TEST_IMAGES_PER_CLASS = 20
# every interpolation image_dataset_from_directory offers: a student may pick any of them
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
CLASS_SIZES = {"daisy": 7, "dandelion": 10, "roses": 13, "sunflowers": 21, "tulips": 4}
SPLIT_SEEDS = (3, 4)


def file_digests(folder: Path) -> dict:
    """{relative path: sha256} of every file under folder."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def make_tree(root: Path) -> None:
    """Tiny distinct JPEGs, CLASS_SIZES per class, under root/<class>/."""
    from PIL import Image

    rng = np.random.default_rng(11)
    for name, size in CLASS_SIZES.items():
        (root / name).mkdir(parents=True)
        for number in range(size):
            pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"img_{number:03d}.jpg")


@pytest.fixture(scope="session")
def grader_trees(submission_dir):
    """The grader's image trees, made in the submission folder before the sandbox copies it (a
    restarted sandbox copies them again), removed when the suite ends."""
    trees = [submission_dir / TREE, submission_dir / PIPELINE_TREE]
    for tree in trees:
        shutil.rmtree(tree, ignore_errors=True)
    make_tree(trees[0] / "src")
    assignment.generate_flower_fixture(trees[1], PIPELINE_IMAGES_PER_CLASS, seed=assignment.GRADER_FIXTURE_SEED + 1)
    yield {"split": trees[0], "pipeline": trees[1]}
    for tree in trees:
        shutil.rmtree(tree, ignore_errors=True)


@pytest.fixture(scope="session")
def split_runs(grader_trees, student):
    """split_dataset called four times in one sandbox: seed 3 into out_a, again into out_a,
    seed 3 into out_b, seed 4 into out_c. Returns the listings the grader reads back."""
    original = file_digests(grader_trees["split"] / "src")
    proxy = student("flowers.ipynb", timeout_s=budget.budget("flowers")["hidden_call_timeout_s"])
    calls = [("out_a", SPLIT_SEEDS[0]), ("out_a", SPLIT_SEEDS[0]), ("out_b", SPLIT_SEEDS[0]), ("out_c", SPLIT_SEEDS[1])]
    listings = []
    for out, seed in calls:
        proxy.call("split_dataset", f"{TREE}/src", f"{TREE}/{out}", [0.8, 0.1, 0.1], seed=seed)
        workspace = proxy.workspace / TREE  # the sandbox's copy of the submission folder
        listings.append(file_digests(workspace / out) if (workspace / out).is_dir() else {})
    return {"class_sizes": CLASS_SIZES, "original": original, "source_after": file_digests(workspace / "src"),
            "first": listings[0], "rerun": listings[1], "same_seed": listings[2], "other_seed": listings[3]}


@pytest.fixture(scope="session")
def saved(submission_dir) -> SavedArtifacts:
    return SavedArtifacts(submission_dir / assignment.ARTIFACTS)


def decoded_images(paths, side: int, method: str = "bilinear") -> np.ndarray:
    """The image files decoded and resized as image_dataset_from_directory does, float32 [0, 255]."""
    import tensorflow as tf

    return np.stack([tf.image.resize(tf.io.decode_image(tf.io.read_file(str(p)), channels=3, expand_animations=False),
                                     (side, side), method=method).numpy() for p in paths]).astype("float32")


def labelled_files(folder: Path) -> tuple[list, np.ndarray]:
    """The image files of folder/<class>/ in class order, and their class indices."""
    paths, labels = [], []
    for index, name in enumerate(assignment.CLASS_NAMES):
        found = assignment.class_images(folder / name) if (folder / name).is_dir() else []
        paths += found
        labels += [index] * len(found)
    return paths, np.array(labels)


@pytest.fixture(scope="session")
def pipeline_run(grader_trees, student):
    """flower_dataset(folder, (side, side), 4, training=False) called in the student's sandbox on
    the grader's own image tree, iterated twice there; with the files decoded directly (every
    interpolation) and their labels, for the grader to compare."""
    side = budget.budget("flowers")["image_size"]
    paths, labels = labelled_files(grader_trees["pipeline"])
    proxy = student("flowers.ipynb", timeout_s=budget.budget("flowers")["hidden_call_timeout_s"])
    passes = proxy.call("flower_dataset", PIPELINE_TREE, (side, side), PIPELINE_BATCH_SIZE, False, seed=0,
                        then="hwtools.assignments.flowers:dataset_passes").value
    if not (isinstance(passes, dict) and isinstance(passes.get("images"), list) and len(passes["images"]) == PIPELINE_PASSES
            and all(isinstance(x, np.ndarray) for x in passes["images"] + passes["labels"])):
        raise CheckFailure("flower_dataset must return a dataset of (images, labels) batches")
    return {"side": side, "labels": labels, "passes": passes,
            "decoded": {method: decoded_images(paths, side, method) for method in INTERPOLATIONS}}


@pytest.fixture(scope="session")
def grader_test_images(submission_dir):
    """(images, labels, what they are) the grader measures accuracy on. Offline, its own fixture
    images (GRADER_FIXTURE_SEED: never in any student's data); on real data, the test part of the
    student's split as listed in the manifest."""
    import tempfile

    from hwtools.data import data_source

    side = budget.budget("flowers")["image_size"]
    if data_source() == "fixture":
        with tempfile.TemporaryDirectory() as scratch:
            folder = assignment.generate_flower_fixture(Path(scratch), GRADER_TEST_IMAGES_PER_CLASS,
                                                        seed=assignment.GRADER_FIXTURE_SEED)
            paths, labels = labelled_files(folder)
            return decoded_images(paths, side), labels, "fixture", "of the grader's own fixture images"
    manifest = SavedArtifacts(submission_dir / assignment.ARTIFACTS).json(assignment.MANIFEST_FILE)
    split_dir = kit.required_keys(manifest, ("split_dir",), f"artifacts/{assignment.MANIFEST_FILE}")["split_dir"]
    if not isinstance(split_dir, str):
        raise kit.ContractBroken(f"artifacts/{assignment.MANIFEST_FILE}: split_dir", "be a folder's path",
                                 kit.describe(split_dir))
    paths, labels = labelled_files(submission_dir / split_dir / "test")
    if not paths:
        raise CheckFailure("no test images found under the split's test folder")
    return decoded_images(paths, side), labels, "real", "images of the test part of your split"
