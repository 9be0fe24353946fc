"""Hidden checks of split_dataset, run in the student's sandbox on the grader's own image tree
(class sizes that do not divide evenly); the grader reads back what it copied."""
from collections import Counter

import pytest

from hwtools.checks import CheckFailure

PARTS = ("train", "validation", "test")


def parts_of(listing: dict) -> dict:
    """{(part, class): {file name: digest}} from a listing of dst."""
    grouped = {}
    for relative, digest in listing.items():
        pieces = relative.split("/")
        if len(pieces) != 3 or pieces[0] not in PARTS:
            raise CheckFailure(f"unexpected file {relative!r} in dst: expected dst/<part>/<class>/<image>")
        grouped.setdefault((pieces[0], pieces[1]), {})[pieces[2]] = digest
    return grouped


@pytest.mark.points(0.5, group="hidden_split")
def test_counts_per_class_and_part(split_runs):
    """each class gets round(n * 0.1) validation images, round(n * 0.1) test images and the rest for training"""
    grouped = parts_of(split_runs["first"])
    for name, n in split_runs["class_sizes"].items():
        expected = {"validation": round(n * 0.1), "test": round(n * 0.1)}
        expected["train"] = n - expected["validation"] - expected["test"]
        found = {part: len(grouped.get((part, name), {})) for part in PARTS}
        if found != expected:
            raise CheckFailure(f"a class of {n} images was split {found}; expected {expected}")


@pytest.mark.points(0.5, group="hidden_split")
def test_parts_disjoint_and_complete(split_runs):
    """the three parts are disjoint and hold every source image exactly once, as copies of the originals"""
    original = split_runs["original"]
    seen = Counter()
    for (part, name), files in parts_of(split_runs["first"]).items():
        for file_name, digest in files.items():
            source = f"{name}/{file_name}"
            if original.get(source) != digest:
                raise CheckFailure(f"{part}/{source} is not a copy of the source image {source}")
            seen[source] += 1
    doubled = sorted(s for s, count in seen.items() if count > 1)
    if doubled:
        raise CheckFailure(f"{len(doubled)} image(s) appear in more than one part, e.g. {doubled[0]}: the parts "
                           "must be disjoint")
    lost = sorted(set(original) - set(seen))
    if lost:
        raise CheckFailure(f"{len(lost)} image(s) are in no part, e.g. {lost[0]}: every image must be used once")


@pytest.mark.points(0.5, group="hidden_split")
def test_deterministic_for_a_seed(split_runs):
    """the same seed gives the same split, another seed a different one"""
    if split_runs["same_seed"] != split_runs["first"]:
        raise CheckFailure("two calls with the same seed put the images in different parts: seed the shuffle")
    if split_runs["other_seed"] == split_runs["first"]:
        raise CheckFailure("seeds 3 and 4 gave exactly the same split: the shuffle must depend on the seed")


@pytest.mark.points(0.5, group="hidden_split")
def test_source_intact_and_rerun_idempotent(split_runs):
    """src is left untouched (copies, not moves) and a second run on the same dst changes nothing"""
    if split_runs["source_after"] != split_runs["original"]:
        raise CheckFailure("the source folder changed: copy the images, never move or modify them")
    if split_runs["rerun"] != split_runs["first"]:
        extra = len(split_runs["rerun"]) - len(split_runs["first"])
        raise CheckFailure(f"running split_dataset again on the same dst changed it ({extra:+d} files): "
                           "clear or reuse the target folders so nothing is duplicated")
