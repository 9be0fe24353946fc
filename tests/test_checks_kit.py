"""hwtools.grading.kit, the shared kit of the hidden suites (issue 19, items 2 and 7): the
contract of a returned value is checked before its values and a broken rule is named; an error
path counts only after a valid call worked; saved models and accuracy fail with messages a
student can act on, never with a grader error."""
import json
import re

import numpy as np
import pytest

from hwtools.checks import CheckFailure
from hwtools.grading import kit
from hwtools.grading.artifacts import SavedArtifacts
from hwtools.grading.student import StudentError
from hwtools.grading.wire import Opaque


def test_a_broken_shape_names_the_rule_and_where_it_comes_from():
    with pytest.raises(kit.ContractBroken) as err:
        kit.returned_array(np.zeros((3, 8)), "out", shape=(8, 3), shape_note="the shape of x")
    assert str(err.value) == "contract: out must have shape (8, 3) (the shape of x); got shape (3, 8)"
    assert err.value.rule.startswith("have shape (8, 3)")


@pytest.mark.parametrize("value,options,rule", [
    ([1.0, np.nan], {}, "hold finite values"),
    (np.zeros(3, dtype=np.float64), {"dtype": np.float32}, "have dtype float32"),
    ([1, 2], {"numpy_only": True}, "be a numpy array"),
    (np.zeros(3), {"kind": "integer"}, "hold integers"),
    ("0.5", {}, "be a numeric array"),
    (Opaque("torch.Tensor"), {}, "be a numeric array"),
    ([[1, 2], [3]], {}, "be a numeric array"),
    (np.zeros((2, 3)), {"ndim": 3}, "have 3 axes"),
    (np.zeros((2, 3)), {"shape": (None, 4)}, "have shape (any, 4)"),
])
def test_each_rule_of_the_contract(value, options, rule):
    with pytest.raises(kit.ContractBroken, match=rf"must {re.escape(rule)}"):
        kit.returned_array(value, "value", **options)


def test_a_value_that_keeps_the_contract_comes_back_as_an_array():
    array = kit.returned_array([[1, 2], [3, 4]], "value", shape=(2, None), kind="integer")
    assert isinstance(array, np.ndarray) and array.shape == (2, 2)


def test_a_row_of_d_values_stands_for_d_values_and_nothing_else_does():
    assert kit.same_values_as(np.arange(4.0).reshape(1, 4), (4,), "stats").shape == (4,)
    assert kit.same_values_as(np.array([2.0]), (), "scale").shape == ()
    with pytest.raises(kit.ContractBroken, match=r"hold 4 values of shape \(4,\); got shape \(2, 2\)"):
        kit.same_values_as(np.zeros((2, 2)), (4,), "stats")


def test_tuples_numbers_and_keys():
    assert kit.returned_tuple([1, 2], 2, "f", "(a, b)") == (1, 2)
    with pytest.raises(kit.ContractBroken, match=r"f must return \(out, cache\), a tuple of 2; got an array"):
        kit.returned_tuple(np.zeros(3), 2, "f", "(out, cache)")
    assert kit.returned_number(np.array(0.25), "sensitivity") == 0.25  # np.float64 crosses the wire as 0-d
    with pytest.raises(kit.ContractBroken, match="be a number; got bool"):
        kit.returned_number(True, "threshold")
    with pytest.raises(kit.ContractBroken, match="be a number"):
        kit.returned_number(np.array(True), "threshold")
    with pytest.raises(kit.ContractBroken, match="be a finite number"):
        kit.returned_number(float("inf"), "threshold")
    with pytest.raises(kit.ContractBroken, match=r"hold the keys \['auc', 'sensitivity'\]; got no \['sensitivity'\]"):
        kit.required_keys({"auc": 1.0}, ("auc", "sensitivity"), "test_report")


class FakeModule:
    """Stands for a student's module: each call answers from a table or raises StudentError."""

    def __init__(self, answers):
        self.answers = answers

    def call(self, name, *args, **kwargs):
        answer = self.answers[args[0]]
        if isinstance(answer, tuple):
            raise StudentError(answer[0], [answer[0], "Exception"], answer[1])
        return type("Call", (), {"value": answer})()


def expect(module, **options):
    return kit.expect_error(module, "f", valid=(("valid",), {}), invalid=(("bad",), {}), error="ValueError",
                            valid_case="a valid input", case="a bad input", **options)


def test_an_error_path_counts_only_after_a_valid_call_worked():
    assert expect(FakeModule({"valid": 1.0, "bad": ("ValueError", "bad input")})).is_a("ValueError")
    crash = FakeModule({"valid": ("ValueError", "not enough values to unpack"), "bad": ("ValueError", "same crash")})
    with pytest.raises(CheckFailure, match=r"already fails on a valid input \(a valid input: ValueError: not enough"):
        expect(crash)
    with pytest.raises(CheckFailure, match="a bad input raised TypeError, expected ValueError"):
        expect(FakeModule({"valid": 1.0, "bad": ("TypeError", "oops")}))
    with pytest.raises(CheckFailure, match="a bad input returned float 1.0, expected a ValueError"):
        expect(FakeModule({"valid": 1.0, "bad": 1.0}))


def test_an_error_path_can_require_the_assignments_wording_and_a_valid_result():
    module = FakeModule({"valid": 1.0, "bad": ("ValueError", "Invalid forward batchnorm mode 'x'")})
    expect(module, wording=r"invalid .* mode")
    with pytest.raises(CheckFailure, match="the assignment asks for a message matching 'unknown mode'"):
        expect(module, wording="unknown mode")

    def must_be_two(value):
        kit.returned_tuple(value, 2, "f", "(a, b)")

    with pytest.raises(kit.ContractBroken, match="must return"):
        expect(module, check_valid=must_be_two)


def test_saved_files_fail_as_the_students_with_the_reason(tmp_path):
    saved = SavedArtifacts(tmp_path, "run the notebook")
    with pytest.raises(CheckFailure, match="artifacts/model.keras is missing: run the notebook"):
        saved.model("model.keras")
    (tmp_path / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(CheckFailure, match="could not be loaded safely"):
        saved.model("model.keras")
    (tmp_path / "split.npz").write_bytes(b"not a zip either")
    with pytest.raises(CheckFailure, match="cannot be read as a .npz"):
        saved.arrays("split.npz", ("train",))
    np.savez(tmp_path / "split.npz", train=np.arange(3))
    with pytest.raises(kit.ContractBroken, match=r"hold the arrays \['train', 'test'\]; got no \['test'\]"):
        saved.arrays("split.npz", ("train", "test"))
    (tmp_path / "metrics.json").write_text(json.dumps([0.5]))
    with pytest.raises(kit.ContractBroken, match=r"artifacts/metrics.json must hold a JSON object"):
        saved.json("metrics.json")


def test_a_model_that_cannot_take_the_graders_inputs_is_the_students(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(CheckFailure, match=r"your saved model cannot predict the grader's rows of shape \(5,\)"):
        kit.predict(model, np.zeros((2, 5), dtype="float32"), "the grader's rows")
    with pytest.raises(kit.ContractBroken, match=r"have shape \(2, 10\)"):
        kit.check_accuracy(model, np.zeros((2, 4), dtype="float32"), [0, 1], 0.5, on="images", budget_note="ci",
                           n_classes=10)
    accuracy = kit.check_accuracy(model, np.zeros((2, 4), dtype="float32"), [0, 0], 0.0, on="images",
                                  budget_note="ci", n_classes=3)
    assert 0.0 <= accuracy <= 1.0



def test_batchnorm_statistics_become_the_population_ones_on_a_copy():
    """A BatchNormalization layer trained for few steps keeps most of its start (mean 0,
    variance 1) in its moving statistics; the copy measured uses the images' own."""
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.BatchNormalization(name="bn")(inputs)))
    images = np.random.default_rng(0).normal(5.0, 0.05, size=(600, 3)).astype("float32")
    copy, count = kit.with_population_batchnorm(model, images, batch_size=128)
    assert count == 1
    np.testing.assert_allclose(copy.get_layer("bn").moving_mean.numpy(), images.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(copy.get_layer("bn").moving_variance.numpy(), images.var(axis=0), rtol=1e-3)
    assert np.allclose(model.get_layer("bn").moving_variance.numpy(), 1.0), "the model given is left as it is"
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert kit.with_population_batchnorm(plain, images) == (plain, 0)
