"""The hidden flowers suite on the source notebook executed once in the ci budget: the reference
gets full marks, and the seed's bugs (validation read from the test folder, rescaling to [0, 1],
a base left trainable in the head stage, a leaky unseeded split) lose the checks aimed at them."""
import json
import shutil

import pytest

from conftest import executed_copy, suite_result
from hwtools.sample_class import fill_cells

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
    fill_cells(folder / NOTEBOOK, {"split": LEAKY_SPLIT})

    result = graded(repo, folder)
    assert result["failed"] == {"test_validation_from_validation_folder", "test_datasets_match_the_split",
                                "test_preprocessing_is_mobilenet_v2s",
                                "test_base_frozen_in_head_stage", "test_counts_per_class_and_part",
                                "test_parts_disjoint_and_complete", "test_deterministic_for_a_seed",
                                "test_source_intact_and_rerun_idempotent"}
    assert "that is rescaling to [0, 1]" in result["messages"]["test_preprocessing_is_mobilenet_v2s"]
    assert "must read data/validation only" in result["messages"]["test_validation_from_validation_folder"]
    assert "trainable weight tensors in the head stage" in result["messages"]["test_base_frozen_in_head_stage"]
    assert "more than one part" in result["messages"]["test_parts_disjoint_and_complete"]
