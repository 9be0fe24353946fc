"""Fixtures of the flowers suite: the saved artifacts of the executed submission, and
split_dataset run in the student's sandbox on an image tree the grader made."""
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hwtools import budget
from hwtools.assignments import flowers as assignment
from hwtools.checks import CheckFailure

TREE = "grader_split_tree"  # made inside the submission folder: the sandbox sees only that
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
def split_runs(submission_dir, student):
    """split_dataset called four times in one sandbox: seed 3 into out_a, again into out_a,
    seed 3 into out_b, seed 4 into out_c. Returns the listings the grader reads back."""
    tree = submission_dir / TREE
    shutil.rmtree(tree, ignore_errors=True)
    make_tree(tree / "src")
    original = file_digests(tree / "src")
    try:
        proxy = student("flowers.ipynb", timeout_s=budget.budget("flowers")["hidden_call_timeout_s"])
        calls = [("out_a", SPLIT_SEEDS[0]), ("out_a", SPLIT_SEEDS[0]), ("out_b", SPLIT_SEEDS[0]), ("out_c", SPLIT_SEEDS[1])]
        listings = []
        for out, seed in calls:
            proxy.call("split_dataset", f"{TREE}/src", f"{TREE}/{out}", [0.8, 0.1, 0.1], seed=seed)
            workspace = proxy.workspace / TREE  # the sandbox's copy of the submission folder
            listings.append(file_digests(workspace / out) if (workspace / out).is_dir() else {})
        source_after = file_digests(workspace / "src")
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return {"class_sizes": CLASS_SIZES, "original": original, "source_after": source_after, "first": listings[0], "rerun": listings[1],
            "same_seed": listings[2], "other_seed": listings[3]}


class SavedArtifacts:
    """Reads artifacts/ of the executed submission; a missing or unreadable file fails the check."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise CheckFailure(f"artifacts/{name} is missing: run the notebook to the end; it saves it")
        return path

    def json(self, name: str) -> dict:
        try:
            return json.loads(self.path(name).read_text())
        except ValueError as err:
            raise CheckFailure(f"artifacts/{name} is not valid JSON: {err}") from None

    def model(self, name: str):
        import keras

        try:
            return keras.saving.load_model(self.path(name), safe_mode=True)
        except CheckFailure:
            raise
        except Exception as err:  # a broken or unsafe file, whatever keras raises
            raise CheckFailure(f"artifacts/{name} could not be loaded safely: {type(err).__name__}: {err}"[:600]) from None


@pytest.fixture(scope="session")
def saved(submission_dir) -> SavedArtifacts:
    return SavedArtifacts(submission_dir / assignment.ARTIFACTS)
