"""The flowers loader's checks and fixture, and the source solution's split_dataset, without
TensorFlow: clear errors for a missing class folder, an unreadable image and an empty class."""
import hashlib
from pathlib import Path

import pytest

from hwtools.assignments.flowers import (CLASS_NAMES, FlowerDataError, check_flower_folder, flower_fixture,
                                         generate_flower_fixture, load_flower_photos, split_manifest)
from hwtools.grading.notebook_defs import definition_chunks

REPO = Path(__file__).resolve().parents[1]


def digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.jpg"))}


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory) -> Path:
    return flower_fixture(7, cache_dir=tmp_path_factory.mktemp("flower_cache"))


@pytest.fixture(scope="module")
def split_dataset():
    """The source notebook's split_dataset, with the imports its cells make."""
    namespace = {}
    for chunk in definition_chunks(REPO / "source" / "flowers" / "flowers.ipynb"):
        if "split_dataset" in chunk["code"] or chunk["code"].startswith(("import random", "import shutil",
                                                                         "from pathlib")):
            exec(chunk["code"], namespace)
    return namespace["split_dataset"]


def test_fixture_is_deterministic_and_checks_out(fixture_dir, tmp_path):
    assert check_flower_folder(fixture_dir) == {name: 7 for name in CLASS_NAMES}
    again = generate_flower_fixture(tmp_path / "again", 7)
    assert digests(again) == digests(fixture_dir)
    assert digests(generate_flower_fixture(tmp_path / "other", 7, seed=1)) != digests(fixture_dir)


def test_loader_announces_the_fixture(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HW_DATA", "fixture")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("HW_FLOWERS_PATH", raising=False)
    directory = load_flower_photos(fixture_images_per_class=3)
    assert directory.parent == tmp_path / "datasets"
    assert "OFFLINE FIXTURE" in capsys.readouterr().out


def copy_of(fixture_dir: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(fixture_dir, tmp_path / "flowers", ignore=shutil.ignore_patterns(".complete")))


def test_missing_class_folder_is_named(fixture_dir, tmp_path):
    import shutil

    folder = copy_of(fixture_dir, tmp_path)
    shutil.rmtree(folder / "tulips")
    with pytest.raises(FlowerDataError, match=r"class folder\(s\) \['tulips'\] missing"):
        check_flower_folder(folder)


def test_unreadable_image_is_named(fixture_dir, tmp_path):
    folder = copy_of(fixture_dir, tmp_path)
    (folder / "roses" / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(FlowerDataError, match=r"broken\.jpg: not a readable image"):
        check_flower_folder(folder)


def test_empty_class_is_named(fixture_dir, tmp_path):
    folder = copy_of(fixture_dir, tmp_path)
    for path in (folder / "daisy").iterdir():
        path.unlink()
    with pytest.raises(FlowerDataError, match="the class 'daisy' has no images"):
        check_flower_folder(folder)


def test_split_counts_disjoint_complete_and_deterministic(split_dataset, fixture_dir, tmp_path):
    source_before = digests(fixture_dir)
    counts = split_dataset(fixture_dir, tmp_path / "a", (0.8, 0.1, 0.1), seed=5)
    assert counts["validation"] == counts["test"] == {name: 1 for name in CLASS_NAMES}  # round(0.7) = 1
    assert counts["train"] == {name: 5 for name in CLASS_NAMES}
    manifest = split_manifest(tmp_path / "a")
    for name in CLASS_NAMES:
        parts = [set(manifest[part][name]) for part in ("train", "validation", "test")]
        assert set.union(*parts) == {p.name for p in (fixture_dir / name).glob("*.jpg")}
        assert sum(map(len, parts)) == 7
    split_dataset(fixture_dir, tmp_path / "b", (0.8, 0.1, 0.1), seed=5)
    split_dataset(fixture_dir, tmp_path / "c", (0.8, 0.1, 0.1), seed=6)
    assert split_manifest(tmp_path / "b") == manifest != split_manifest(tmp_path / "c")
    split_dataset(fixture_dir, tmp_path / "a", (0.8, 0.1, 0.1), seed=5)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(fixture_dir) == source_before
