"""The flowers MobileNetV2 base offline: at alpha 0.35 the committed stand-in weights are loaded
and announced, never silently; other widths start from random weights, announced too; the
weights file is small and ships with the package."""
import fnmatch
import tomllib
from pathlib import Path

import numpy as np
import pytest

from hwtools.assignments.flowers import STANDIN_ALPHA, STANDIN_WEIGHTS, mobilenet_v2_base

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HW_DATA", "fixture")
    monkeypatch.delenv("HW_MOBILENET_WEIGHTS", raising=False)


def test_stand_in_weights_are_loaded_and_announced(offline, capsys):
    import keras

    base = mobilenet_v2_base(32, STANDIN_ALPHA)
    assert "OFFLINE STAND-IN weights, not ImageNet" in capsys.readouterr().out
    at_other_size = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=STANDIN_ALPHA, include_top=False,
                                                   weights=None)
    untrained = [w.copy() for w in at_other_size.get_weights()]
    at_other_size.load_weights(STANDIN_WEIGHTS)
    loaded = base.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(loaded, at_other_size.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(loaded, untrained))


def test_other_widths_start_random_and_say_so(offline, capsys):
    mobilenet_v2_base(32, 1.0)
    out = capsys.readouterr().out
    assert "NO ImageNet weights offline and no stand-in for alpha 1" in out and "weights=None" in out


def test_weights_file_is_small_and_packaged():
    assert STANDIN_WEIGHTS.stat().st_size < 4_000_000
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    relative = STANDIN_WEIGHTS.relative_to(REPO / "hwtools" / "assignments").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data["hwtools.assignments"])
