"""Tolerance-aware checks whose failure messages say what was expected, what came back and
by how much it is off (in the spirit of scikit-learn's estimator checks and CS231n's
rel_error). Public tests in the notebooks and the hidden suites share them.

Results are converted with ``np.asarray(..., dtype=float)`` and their type and shape are
checked first, so an object whose ``__eq__`` always answers True gets nowhere.
"""
from __future__ import annotations

import numbers

import numpy as np


class CheckFailure(AssertionError):
    """A check that failed; its message is meant for the student."""


def rel_error(x, y) -> float:
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__}"


def as_float_array(value, name: str = "result") -> np.ndarray:
    """The value as a float array, or a CheckFailure naming what it was instead."""
    __tracebackhide__ = True  # students see the message, not this module's lines
    if isinstance(value, (str, bytes)) or value is None:
        raise CheckFailure(f"{name}: expected a numeric array, got {_describe(value)}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise CheckFailure(f"{name}: expected a numeric array, got {_describe(value)} ({err})") from None
    return array


def assert_shape(actual, expected_shape, name: str = "result") -> None:
    __tracebackhide__ = True  # students see the message, not this module's lines
    actual = np.asarray(actual)
    if tuple(actual.shape) != tuple(expected_shape):
        raise CheckFailure(f"{name}: expected shape {tuple(expected_shape)}, got {tuple(actual.shape)}")


def assert_close(actual, expected, *, rtol: float = 1e-7, atol: float = 0.0, name: str = "result") -> None:
    """Element-wise |actual - expected| <= atol + rtol * |expected|, with a useful message."""
    __tracebackhide__ = True  # students see the message, not this module's lines
    expected = np.asarray(expected, dtype=float)
    actual_array = as_float_array(actual, name)
    assert_shape(actual_array, expected.shape, name)
    if not np.all(np.isfinite(actual_array)):
        bad = int(np.sum(~np.isfinite(actual_array)))
        raise CheckFailure(f"{name}: {bad} of {actual_array.size} values are NaN or infinite")
    diff = np.abs(actual_array - expected)
    allowed = atol + rtol * np.abs(expected)
    if np.all(diff <= allowed):
        return
    worst = np.unravel_index(int(np.argmax(diff - allowed)), diff.shape) if diff.ndim else ()
    n_bad = int(np.sum(diff > allowed))
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    relative = float(diff[worst]) / max(abs(float(expected[worst])), 1e-300)
    raise CheckFailure(
        f"{name}: {n_bad} of {diff.size} values differ from the expected ones; worst{where}: "
        f"expected {float(expected[worst]):.6g}, got {float(actual_array[worst]):.6g} "
        f"(off by {float(diff[worst]):.3g}, relative {relative:.3g}; allowed rtol={rtol:g}, atol={atol:g})")


def assert_equal_number(actual, expected, name: str = "answer") -> None:
    """An exact numeric answer (a count, a size): a real number equal to the expected one."""
    __tracebackhide__ = True  # students see the message, not this module's lines
    if isinstance(actual, bool) or not isinstance(actual, numbers.Number):
        raise CheckFailure(f"{name}: expected a number, got {_describe(actual)}")
    if float(actual) != float(expected):
        raise CheckFailure(f"{name}: expected {expected}, got {actual} (off by {float(actual) - float(expected):g})")


def assert_unchanged(before, after, name: str = "input") -> None:
    """The function must not modify its input in place."""
    __tracebackhide__ = True  # students see the message, not this module's lines
    before = np.asarray(before, dtype=float)
    after = as_float_array(after, name)
    if before.shape != after.shape or not np.array_equal(before, after, equal_nan=True):
        changed = int(np.sum(before != after)) if before.shape == after.shape else before.size
        raise CheckFailure(f"{name} was modified in place ({changed} values changed); work on a copy")


def assert_accuracy(probabilities, labels, threshold: float, on: str, budget_note: str) -> float:
    """Classification accuracy of ``probabilities`` (one row per sample) against ``labels``, at
    least ``threshold``; ``on`` names the images, ``budget_note`` whose threshold it is."""
    __tracebackhide__ = True
    labels = np.asarray(labels)
    accuracy = float(np.mean(np.asarray(probabilities).argmax(axis=1) == labels))
    if accuracy < threshold:
        raise CheckFailure(f"test accuracy {accuracy:.4f} on {len(labels)} {on} is below {threshold:.2f} "
                           f"({budget_note})")
    return accuracy


# A check that finds work this run did not do (a model trained elsewhere, or longer or on other
# data than the budget says) says so in its message, beginning with FLAGGED, for a TA to look at.
FLAGGED = "FLAGGED for a TA:"

# What a student reads for a check whose failure was the grader's own (an exception raised by the
# grader's code or reference, not by a rule the work breaks): see hwtools.grading.hidden_suite.
GRADER_ERROR_MESSAGE = "the grader could not check this; your TA has been told"


class ForgedWork(CheckFailure):
    """Evidence that the graded work was not made by this run as the notebook says."""

    def __init__(self, message: str):
        super().__init__(f"{FLAGGED} {message}")


def saved_optimizer_steps(model) -> int | None:
    """The optimizer's step count saved with a Keras model (``model.optimizer.iterations``), or
    None for a model saved without an optimizer."""
    optimizer = getattr(model, "optimizer", None)
    iterations = getattr(optimizer, "iterations", None)
    if iterations is None:
        return None
    try:
        return int(np.asarray(iterations.numpy() if hasattr(iterations, "numpy") else iterations))
    except (TypeError, ValueError):
        return None


def assert_trained_steps(model, fewest: int, most: int, budget_note: str) -> int:
    """The saved model took between ``fewest`` and ``most`` optimizer steps (the budget's
    training), else ForgedWork saying how many it took."""
    __tracebackhide__ = True
    steps = saved_optimizer_steps(model)
    expected = f"{fewest}" if fewest == most else f"{fewest}-{most}"
    if steps is None:
        raise ForgedWork(f"the saved model has no optimizer state; {budget_note} trains {expected} steps: the "
                         "grader cannot tell that this run trained it (save the compiled, trained model)")
    if not fewest <= steps <= most:
        raise ForgedWork(f"the saved model took {steps} optimizer steps; {budget_note} trains {expected}: it was "
                         "not trained by this run as the notebook says")
    return steps
