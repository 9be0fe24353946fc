"""hwtools.checks: tolerant comparisons that fail with messages worth reading."""
import numpy as np
import pytest

from hwtools.checks import (CheckFailure, as_float_array, assert_close, assert_equal_number, assert_unchanged,
                            rel_error)


class AlwaysEqual:
    def __eq__(self, other):
        return True


def test_close_values_pass():
    assert_close(np.array([1.0, 2.0]) + 1e-9, [1.0, 2.0], rtol=1e-6)


def test_message_says_expected_got_and_how_far():
    with pytest.raises(CheckFailure) as err:
        assert_close([1.0, 2.5], [1.0, 2.0], rtol=1e-6, name="out")
    message = str(err.value)
    assert "out: 1 of 2 values differ" in message
    assert "expected 2, got 2.5" in message and "off by 0.5" in message and "index (1,)" in message


def test_shape_mismatch_is_named():
    with pytest.raises(CheckFailure, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)))


def test_nan_is_reported():
    with pytest.raises(CheckFailure, match="NaN or infinite"):
        assert_close([np.nan, 1.0], [0.0, 1.0], atol=10)


def test_an_always_equal_object_is_not_an_array():
    with pytest.raises(CheckFailure, match="expected a numeric array, got AlwaysEqual"):
        assert_close(AlwaysEqual(), [1.0, 2.0])
    with pytest.raises(CheckFailure):
        as_float_array("1.0")


def test_exact_answers():
    assert_equal_number(260, 260)
    with pytest.raises(CheckFailure, match="expected 260, got 300"):
        assert_equal_number(300, 260)
    with pytest.raises(CheckFailure, match="expected a number"):
        assert_equal_number(AlwaysEqual(), 260)
    with pytest.raises(CheckFailure, match="expected a number"):
        assert_equal_number(True, 1)


def test_unchanged_detects_in_place_edits():
    x = np.arange(4.0)
    assert_unchanged(x, x.copy())
    with pytest.raises(CheckFailure, match="modified in place"):
        assert_unchanged(x, x + 1)


def test_rel_error_is_cs231n_s():
    assert rel_error([1.0], [1.0]) == 0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)


def test_assert_accuracy_passes_at_the_threshold_and_fails_below():
    from hwtools.checks import assert_accuracy

    probabilities = np.eye(4)[[0, 1, 2, 3]]  # predicts 0, 1, 2, 3
    assert assert_accuracy(probabilities, [0, 1, 2, 0], 0.75, "images", "ci") == 0.75
    with pytest.raises(CheckFailure, match=r"test accuracy 0.5000 on 4 images is below 0.75 \(ci\)"):
        assert_accuracy(probabilities, [0, 1, 0, 0], 0.75, "images", "ci")
