"""Hidden checks of make_windows and chronological_split, called in the sandbox on fresh inputs.

Windows are checked on a series whose values are their own time index (feature j at time t
holds t + 1000 j), so any misalignment shows up as a wrong time, not as a wrong number.
"""
import numpy as np
import pytest

from hwtools import budget
from hwtools.checks import CheckFailure, as_float_array, assert_shape
from hwtools.grading import kit

NOTEBOOK = "consumption.ipynb"


@pytest.fixture(scope="module")
def notebook(student):
    return student(NOTEBOOK, timeout_s=budget.budget("gas_consumption")["hidden_call_timeout_s"])


def time_coded_series(length, n_features):
    times = np.arange(length, dtype=float)
    return times[:, None] + 1000.0 * np.arange(n_features)[None, :], times.copy()


def windows_of(notebook, length, n_features, lookback, horizon):
    features, target = time_coded_series(length, n_features)
    value = kit.returned_tuple(notebook.call("make_windows", features, target, lookback, horizon).value, 2,
                               "make_windows", "(X, y)")
    X = kit.returned_array(value[0], "X", ndim=3, shape_note="(windows, lookback, features)").astype(float)
    y = kit.returned_array(value[1], "y").astype(float).reshape(-1)
    return X, y


@pytest.mark.points(1, group="hidden_windows")
def test_window_shapes(notebook, rng):
    """make_windows: X has shape (T - lookback - horizon + 1, lookback, F) and y (T - lookback - horizon + 1,)"""
    for n_features, lookback, horizon in ((1, 5, 1), (3, 24, 1), (8, 7, 3), (2, 1, 6)):
        length = int(rng.integers(60, 140))
        X, y = windows_of(notebook, length, n_features, lookback, horizon)
        n_windows = length - lookback - horizon + 1
        where = f" (T={length}, F={n_features}, lookback={lookback}, horizon={horizon})"
        assert_shape(X, (n_windows, lookback, n_features), name="X" + where)
        assert_shape(y, (n_windows,), name="y" + where)


@pytest.mark.points(2, group="hidden_windows")
def test_window_alignment(notebook, rng):
    """make_windows: the window of the target at time t holds exactly times t-horizon-lookback+1 .. t-horizon"""
    for n_features, lookback, horizon in ((2, 4, 1), (1, 24, 1), (3, 6, 5), (1, 1, 1)):
        length = int(rng.integers(50, 90))
        X, y = windows_of(notebook, length, n_features, lookback, horizon)
        setting = f"lookback={lookback}, horizon={horizon}"
        first_target = lookback + horizon - 1
        if len(y) != length - first_target or not np.array_equal(y, np.arange(first_target, length)):
            raise CheckFailure(f"with {setting} on times 0..{length - 1}, the targets must be every time from "
                               f"{first_target} to {length - 1} in order; got {y[:4].tolist()} ... {y[-2:].tolist()}")
        for i, t in enumerate(y.astype(int)):
            expected = np.arange(t - horizon - lookback + 1, t - horizon + 1)
            seen = X[i, :, 0]
            if not np.array_equal(seen, expected):
                raise CheckFailure(f"with {setting}, the window of the target at time {t} holds times "
                                   f"{seen.astype(int).tolist()[:8]}, expected {expected.tolist()[:8]}"
                                   f"{' ...' if lookback > 8 else ''} (never time {t} or later)")
        if not np.array_equal(X[0, 0] - X[0, 0, 0], 1000.0 * np.arange(n_features)):
            raise CheckFailure(f"with {setting}, the features of one hour are mixed up across the window")


def check_chronological(parts, n_rows, fractions, what):
    """Three contiguous, disjoint parts covering 0..n_rows-1 in order, sized as asked (+-1 row)."""
    if not isinstance(parts, (tuple, list)) or len(parts) != 3:
        raise CheckFailure(f"{what}: expected three arrays (train, validation, test), got {parts!r:.80}")
    names = ("train", "validation", "test")
    arrays = [as_float_array(p, f"{what} {name} rows").reshape(-1) for p, name in zip(parts, names)]
    joined = np.concatenate(arrays)
    if not np.array_equal(joined, np.arange(n_rows)):
        if len(np.unique(joined)) != len(joined):
            raise CheckFailure(f"{what}: the parts overlap (a row is in more than one part)")
        if any(np.any(np.diff(a) != 1) for a in arrays if len(a)):
            raise CheckFailure(f"{what}: the parts are not contiguous runs of rows in time order "
                               "(shuffled or interleaved rows mix past and future)")
        raise CheckFailure(f"{what}: train, validation and test must follow each other in time and cover "
                           f"all {n_rows} rows; got the parts starting at rows {[int(a[0]) for a in arrays if len(a)]}")
    train_end = n_rows * fractions[0]
    validation_end = n_rows * (fractions[0] + fractions[1])
    ends = (len(arrays[0]), len(arrays[0]) + len(arrays[1]))
    if abs(ends[0] - train_end) > 1 or abs(ends[1] - validation_end) > 1:
        raise CheckFailure(f"{what}: with {n_rows} rows and fractions {fractions}, the validation part should "
                           f"start near row {train_end:.0f} and the test part near row {validation_end:.0f}; "
                           f"they start at {ends[0]} and {ends[1]}")


@pytest.mark.points(1, group="hidden_split")
def test_split_function(notebook, rng):
    """chronological_split: contiguous, disjoint parts in time order (no shuffling), sized by the fractions (+-1 row)"""
    for train_fraction, validation_fraction in ((0.7, 0.15), (0.6, 0.2), (0.5, 0.25)):
        n_rows = int(rng.integers(80, 3000))
        parts = notebook.call("chronological_split", n_rows, train_fraction, validation_fraction).value
        check_chronological(parts, n_rows, (train_fraction, validation_fraction),
                            f"chronological_split({n_rows}, {train_fraction}, {validation_fraction})")


@pytest.mark.points(1, group="hidden_split")
def test_saved_split(saved, grader_data):
    """the saved split (artifacts/split.npz): contiguous, disjoint, in time order, sized by the fractions (+-1 row)"""
    split = saved.arrays("split.npz", ("train", "validation", "test"))
    check_chronological([split["train"], split["validation"], split["test"]], grader_data.n_rows,
                        grader_data.fractions[:2], "artifacts/split.npz")
