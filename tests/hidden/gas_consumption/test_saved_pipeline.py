"""Hidden checks of the fixed pipeline from what it saved. The grader loads the model and the
scaling, builds its own test windows from the course's CSV, and measures R^2 itself."""
import numpy as np
import pytest

from hwtools import budget
from hwtools.assignments.gas_consumption import HORIZON, LOOKBACK, NAIVE_LAG
from hwtools.checks import CheckFailure, assert_close
from hwtools.grading import kit
from hwtools.grading.hidden_suite import record_metric

SETTINGS = budget.budget("gas_consumption")
REPORTED_R2_TOLERANCE = 2e-3


def r_squared(actual, predicted):
    """1 - residual sum of squares / total sum of squares, in the units given."""
    residual = np.sum((actual - predicted) ** 2)
    return float(1.0 - residual / np.sum((actual - np.mean(actual)) ** 2))


@pytest.fixture(scope="module")
def scaling(saved, grader_data):
    keys = ("feature_center", "feature_scale", "target_center", "target_scale")
    data = kit.required_keys(saved.json("scaling.json"), keys, "artifacts/scaling.json (save it with save_artifacts)")
    n_inputs = grader_data.inputs.shape[1]
    values = {}
    for key in keys:
        value = kit.returned_array(data[key], f"artifacts/scaling.json: {key}").astype(float)
        if key.startswith("feature"):
            values[key] = kit.returned_array(value, f"artifacts/scaling.json: {key}", shape=(n_inputs,),
                                             shape_note="one value per input")
        else:  # one number; [x] leaves no doubt
            values[key] = float(kit.same_values_as(value, (), f"artifacts/scaling.json: {key} (one number)"))
    if np.any(values["feature_scale"] == 0) or values["target_scale"] == 0:
        raise kit.ContractBroken("artifacts/scaling.json", "hold non-zero scales", "a scale of 0")
    return values


@pytest.fixture(scope="module")
def model(saved):
    return saved.model("model.keras")


def grader_predictions(model, scaling, grader_data, target_rows):
    """Predictions in consumption units for the targets at these rows, from the grader's windows."""
    scaled = (grader_data.inputs - scaling["feature_center"]) / scaling["feature_scale"]
    first_rows = target_rows - HORIZON - LOOKBACK + 1
    windows = scaled[first_rows[:, None] + np.arange(LOOKBACK)[None, :]].astype("float32")
    output = kit.predict(model, windows, f"windows (lookback {LOOKBACK}, one column per input)", batch_size=512)
    if output.size != len(target_rows):
        raise kit.ContractBroken("your model's output", "be one value per window", f"shape {output.shape}")
    return output.reshape(-1) * scaling["target_scale"] + scaling["target_center"]


@pytest.fixture(scope="module")
def measured(model, scaling, grader_data):
    rows = grader_data.test_rows
    actual = grader_data.consumption[rows]
    predicted = grader_predictions(model, scaling, grader_data, rows)
    return {"r2": r_squared(actual, predicted), "naive_r2": r_squared(actual, grader_data.consumption[rows - NAIVE_LAG])}


def fitted_statistics(center, scale, values):
    """Which statistics of these rows the (center, scale) pairs are, or None."""
    candidates = {"mean and standard deviation": (values.mean(0), values.std(0)),
                  "mean and sample standard deviation": (values.mean(0), values.std(0, ddof=1)),
                  "minimum and range": (values.min(0), values.max(0) - values.min(0))}
    for name, (expected_center, expected_scale) in candidates.items():
        if np.all(np.abs(center - expected_center) <= 1e-3 * expected_scale) and \
                np.all(np.abs(scale / expected_scale - 1) <= 1e-3):
            return name
    return None


@pytest.mark.points(1, group="hidden_scaling")
def test_scalers_fitted_on_training_rows(scaling, grader_data):
    """the input and target scalers are fitted on the chronological training part only (its statistics, not all rows')"""
    columns = {"inputs": (grader_data.inputs, scaling["feature_center"], scaling["feature_scale"]),
               "target": (grader_data.consumption[:, None], np.atleast_1d(scaling["target_center"]),
                          np.atleast_1d(scaling["target_scale"]))}
    parts = {"all rows (test rows included)": np.arange(grader_data.n_rows), "the test rows": grader_data.test_rows}
    for what, (values, center, scale) in columns.items():
        if fitted_statistics(center, scale, values[grader_data.train_rows]):
            continue
        fitted_on = [name for name, rows in parts.items() if fitted_statistics(center, scale, values[rows])]
        where = f"they are the statistics of {fitted_on[0]}" if fitted_on else "they match no statistics of the training rows"
        raise CheckFailure(f"the {what} scaler was not fitted on the {len(grader_data.train_rows)} training rows only: "
                           f"{where}. Fit scalers on the training part and apply them unchanged to the rest")


def saved_test_predictions(saved, grader_data):
    data = saved.arrays("test_predictions.npz", ("rows", "prediction"))
    rows = kit.returned_array(data["rows"], "artifacts/test_predictions.npz: rows", ndim=1, kind="integer",
                              shape_note="integer row positions")
    prediction = kit.returned_array(data["prediction"], "artifacts/test_predictions.npz: prediction").reshape(-1)
    if rows.shape != prediction.shape:
        raise kit.ContractBroken("artifacts/test_predictions.npz", "hold one row position per prediction",
                                 f"{len(rows)} rows and {len(prediction)} predictions")
    in_test = np.isin(rows, grader_data.test_rows)
    if not in_test.all() or len(np.unique(rows)) < 0.9 * len(grader_data.test_rows):
        raise CheckFailure(f"the saved test predictions must cover the test part (rows {grader_data.test_rows[0]} to "
                           f"{grader_data.test_rows[-1]}); {int((~in_test).sum())} of their {len(rows)} rows lie outside it")
    return rows.astype(int), prediction


@pytest.mark.points(1, group="hidden_scaling")
def test_predictions_in_consumption_units(saved, model, scaling, grader_data):
    """the saved test predictions are in consumption units (the target's inverse transform applied)"""
    rows, prediction = saved_test_predictions(saved, grader_data)
    expected = grader_predictions(model, scaling, grader_data, rows)
    scaled_expected = (expected - scaling["target_center"]) / scaling["target_scale"]
    if np.allclose(prediction, scaled_expected, rtol=1e-3, atol=1e-3):
        raise CheckFailure("the saved test predictions are still in scaled units: inverse-transform them with the "
                           "target scaler before comparing with the consumption")
    assert_close(prediction, expected, rtol=1e-4, atol=1e-3 * abs(scaling["target_scale"]),
                 name="saved test predictions against your model's predictions in consumption units")


@pytest.mark.points(1, group="hidden_scaling")
def test_reported_r2_in_consumption_units(saved, model, scaling, grader_data):
    """the reported test R^2 (artifacts/metrics.json) is R^2 of predictions in consumption units"""
    metrics = kit.required_keys(saved.json("metrics.json"), ("test_r2",), "artifacts/metrics.json")
    reported = float(kit.returned_number(metrics["test_r2"], "artifacts/metrics.json: test_r2"))
    rows, _ = saved_test_predictions(saved, grader_data)
    expected = r_squared(grader_data.consumption[rows], grader_predictions(model, scaling, grader_data, rows))
    if abs(reported - expected) > REPORTED_R2_TOLERANCE:
        raise CheckFailure(f"you report a test R^2 of {reported:.4f}, but your model's predictions, in consumption "
                           f"units, give {expected:.4f} on the same rows: compute R^2 after the inverse transform")


@pytest.mark.points(2, group="hidden_quality")
def test_r2_above_threshold(measured):
    """R^2 in consumption units of your saved model on the grader's test-part windows reaches the budget's threshold"""
    record_metric("test_r2", measured["r2"])  # for hw leaderboard: the grader's number, below the threshold too
    if not measured["r2"] >= SETTINGS["r2_min"]:
        raise CheckFailure(f"your model's R^2 on the test part, measured by the grader, is {measured['r2']:.4f}; "
                           f"at least {SETTINGS['r2_min']} is needed in this budget")


@pytest.mark.points(1, group="hidden_quality")
def test_beats_seasonal_naive(measured):
    """your model's test R^2 beats the seasonal-naive baseline's (the same hour of the previous day)"""
    if not measured["r2"] > measured["naive_r2"]:
        raise CheckFailure(f"your model's test R^2 is {measured['r2']:.4f}, the seasonal-naive baseline's "
                           f"{measured['naive_r2']:.4f}: the LSTM must beat it")
