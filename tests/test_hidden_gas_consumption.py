"""The hidden gas-consumption suite on the source notebook executed once in the ci budget: the
reference gets full marks, the given pipeline's R^2 is negative, and each original fault (put
back into the executed submission's code or artifacts) loses the checks aimed at it."""
import json
import shutil

import numpy as np
import pytest

from hwtools.assignments.gas_consumption import BUDGET, INPUT_NAMES
from conftest import executed_copy, suite_result
from hwtools.course.sample_class import fill_cells

FULL = 11.0
NOTEBOOK = "consumption.ipynb"
LEAKY_WINDOWS = '''
def make_windows(features, target, lookback, horizon):
    features, target = np.asarray(features, float), np.asarray(target, float)
    n = len(features) - lookback - horizon + 1
    return np.stack([features[i + horizon:i + horizon + lookback] for i in range(n)]), target[lookback + horizon - 1:]
'''
RIGHT_WINDOWS = LEAKY_WINDOWS.replace("i + horizon:i + horizon + lookback", "i:i + lookback")
RIGHT_SPLIT = '''
def chronological_split(n_rows, train_fraction, validation_fraction):
    a, b = round(n_rows * train_fraction), round(n_rows * (train_fraction + validation_fraction))
    return np.arange(a), np.arange(a, b), np.arange(b, n_rows)
'''
SHUFFLED_SPLIT = '''
def chronological_split(n_rows, train_fraction, validation_fraction):
    rows = np.random.default_rng(0).permutation(n_rows)
    a, b = round(n_rows * train_fraction), round(n_rows * (train_fraction + validation_fraction))
    return rows[:a], rows[a:b], rows[b:]
'''


@pytest.fixture(scope="module")
def executed(repo, tmp_path_factory):
    """The source folder after running its notebook top to bottom (ci budget)."""
    return executed_copy(repo.source / "gas_consumption", NOTEBOOK, tmp_path_factory.mktemp("gas") / "reference")


def graded(repo, folder) -> dict:
    return suite_result(repo, "gas_consumption", folder)


def variant(executed, tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(executed, folder)
    return folder, folder / "artifacts"


def test_given_pipeline_is_negative_and_fixed_one_passes_in_ci(executed):
    metrics = json.loads((executed / "artifacts" / "metrics.json").read_text())
    assert metrics["given_r2"] < 0
    assert metrics["test_r2"] >= BUDGET["ci"]["r2_min"] and metrics["test_r2"] > metrics["naive_r2"]


def test_reference_solution_gets_full_marks(repo, executed):
    result = graded(repo, executed)
    assert result["failed"] == set() and result["score"] == FULL


def test_scaler_on_all_rows_and_leaky_windows_lose_their_checks(repo, executed, tmp_path):
    folder, artifacts = variant(executed, tmp_path, "all_rows_scaler_leaky_windows")
    frame_inputs = np.loadtxt(folder / "gas_consumption.csv", delimiter=",", skiprows=1, usecols=(3, 4))
    scaling = json.loads((artifacts / "scaling.json").read_text())
    scaling["target_center"], scaling["target_scale"] = frame_inputs[:, 1].mean(), frame_inputs[:, 1].std()
    (artifacts / "scaling.json").write_text(json.dumps(scaling))
    fill_cells(folder / NOTEBOOK, {"functions": LEAKY_WINDOWS + RIGHT_SPLIT})
    result = graded(repo, folder)
    assert {"test_scalers_fitted_on_training_rows", "test_window_alignment"} <= result["failed"]
    assert "statistics of all rows (test rows included)" in result["messages"]["test_scalers_fitted_on_training_rows"]
    assert "never time" in result["messages"]["test_window_alignment"]
    assert result["score"] < FULL


def test_r2_on_scaled_values_and_shuffled_split_lose_their_checks(repo, executed, tmp_path):
    folder, artifacts = variant(executed, tmp_path, "scaled_r2_shuffled_split")
    scaling = json.loads((artifacts / "scaling.json").read_text())
    saved = dict(np.load(artifacts / "test_predictions.npz"))
    scaled = (saved["prediction"] - scaling["target_center"]) / scaling["target_scale"]
    np.savez(artifacts / "test_predictions.npz", rows=saved["rows"], prediction=scaled)
    consumption = np.loadtxt(folder / "gas_consumption.csv", delimiter=",", skiprows=1, usecols=4)[saved["rows"]]
    mixed_units_r2 = 1 - np.sum((consumption - scaled) ** 2) / np.sum((consumption - consumption.mean()) ** 2)
    (artifacts / "metrics.json").write_text(json.dumps({"test_r2": mixed_units_r2}))
    rows = np.random.default_rng(0).permutation(17520)
    np.savez(artifacts / "split.npz", train=rows[:12264], validation=rows[12264:14892], test=rows[14892:])
    fill_cells(folder / NOTEBOOK, {"functions": SHUFFLED_SPLIT + RIGHT_WINDOWS})
    result = graded(repo, folder)
    assert result["failed"] == {"test_predictions_in_consumption_units", "test_reported_r2_in_consumption_units",
                                "test_saved_split", "test_split_function"}
    assert "still in scaled units" in result["messages"]["test_predictions_in_consumption_units"]
    assert "not contiguous" in result["messages"]["test_saved_split"]


def test_a_model_worse_than_the_seasonal_naive_baseline_loses_quality(repo, executed, tmp_path):
    import keras

    folder, artifacts = variant(executed, tmp_path, "untrained_model")
    keras.utils.set_random_seed(0)
    untrained = keras.Sequential([keras.Input((24, len(INPUT_NAMES))), keras.layers.LSTM(4), keras.layers.Dense(1)])
    untrained.save(artifacts / "model.keras")
    result = graded(repo, folder)
    assert {"test_r2_above_threshold", "test_beats_seasonal_naive"} <= result["failed"]
    assert "the LSTM must beat it" in result["messages"]["test_beats_seasonal_naive"]
    assert not {"test_window_alignment", "test_saved_split", "test_scalers_fitted_on_training_rows"} & result["failed"]

