"""The hidden suite of kerastuner_mnist, tested: the reference and a correct alternative
(functional blocks, Hyperband) pass every check, each typical mistake fails the checks aimed
at it, and tampering with the grader's describe_model is refused."""
import json
import os

import keras
import nbformat
import numpy as np
import pytest

import conftest
from conftest import SuffixedModule, load_hidden_module, suffixed
from hwtools.checks import CheckFailure
from hwtools.grading.student import StudentModule

HIDDEN = "tests/hidden/kerastuner_mnist/test_kerastuner_mnist.py"
NOTEBOOK = "kerastuner_mnist.ipynb"
MODULE_HEADER = ("import json\n\nimport keras\nimport keras_tuner\nimport numpy as np\n\n"
                 "from hwtools.assignments.kerastuner_mnist import (LIMITS, TUNER_DIRECTORY, TUNER_PROJECT,\n"
                 "                                                  describe_hypermodel)\n\nSEED = 0\n\n")
SPACE_CHECKS = ["test_required_hyperparameters", "test_ranges_within_limits", "test_corner_models_within_limits",
                "test_corners_build_with_convolution_and_pooling", "test_fixed_values_set_the_layers",
                "test_fixed_values_set_the_optimizer"]
SPLIT_CHECKS = ["test_splits_scaled_and_sized", "test_validation_comes_from_training_images"]

# Hypermodel mistakes: (name, text of the reference build_model, its replacement, checks that must fail).
HYPERMODEL_BUGS = [
    ("six_conv_layers", 'hp.Int("conv_layers", 1, 5)', 'hp.Int("conv_layers", 1, 6)',
     {"test_ranges_within_limits", "test_corner_models_within_limits"}),
    ("filters_512", 'hp.Int(f"filters_{i}", 16, 128, step=16)', 'hp.Int(f"filters_{i}", 16, 512, step=16)',
     {"test_ranges_within_limits", "test_corner_models_within_limits"}),
    ("learning_rate_0_01", 'hp.Float("learning_rate", 1e-4, 1e-3, sampling="log")',
     'hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")',
     {"test_ranges_within_limits", "test_corner_models_within_limits"}),
    ("quadrupled_filters", 'keras.layers.Conv2D(hp.Int(f"filters_{i}", 16, 128, step=16),',
     'keras.layers.Conv2D(4 * hp.Int(f"filters_{i}", 16, 128, step=16),',
     {"test_corner_models_within_limits", "test_fixed_values_set_the_layers"}),
    ("no_pooling", "model.add(keras.layers.MaxPooling2D(2))", "pass",
     {"test_corners_build_with_convolution_and_pooling"}),
    ("pooling_a_1x1_map", "if size >= 4:", "if True:", set(SPACE_CHECKS)),
    ("adam_only", '["adam", "rmsprop"]', '["adam"]', {"test_required_hyperparameters"}),
    ("optimizer_ignored", 'hp.Choice("optimizer", ["adam", "rmsprop"])',
     '[hp.Choice("optimizer", ["adam", "rmsprop"]), "adam"][1]', {"test_fixed_values_set_the_optimizer"}),
]
FIXED_MODEL = '''
def build_model(hp):
    """An untunable model: hp is ignored."""
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model
'''
FIXED_MODEL_MUST_FAIL = {"test_required_hyperparameters", "test_fixed_values_set_the_layers",
                         "test_fixed_values_set_the_optimizer"}

SPLIT_BUGS = [
    ("validation_is_test", "(scale(x_train[val]), y_train[val])", "(scale(x_test), y_test)",
     {"test_splits_scaled_and_sized", "test_validation_comes_from_training_images"}),
    ("validation_overlaps_fit", "val, fit = order[:n_val], order[n_val:]", "val, fit = order[:n_val], order",
     {"test_splits_scaled_and_sized", "test_validation_comes_from_training_images"}),
    ("not_scaled", '(np.asarray(x, dtype="float32") / 255.0)', 'np.asarray(x, dtype="float32")',
     {"test_splits_scaled_and_sized", "test_validation_comes_from_training_images"}),
]


@pytest.fixture(scope="module")
def hidden(repo):
    return load_hidden_module(repo, HIDDEN, "hidden_kerastuner_suite")


@pytest.fixture(scope="module")
def source_cells(repo):
    """grade_id -> the source notebook's code, solution markers removed."""
    notebook = nbformat.read(str(repo.source / "kerastuner_mnist" / NOTEBOOK), as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: "\n".join(l for l in cell.source.splitlines() if "### " not in l)
            for cell in notebook.cells if cell.cell_type == "code" and "nbgrader" in cell.metadata}


@pytest.fixture(scope="module")
def alice(repo):
    path = repo.sample_class / "alice_correct" / "kerastuner_mnist" / "cells.json"
    return json.loads(path.read_text())[NOTEBOOK]


def mutate(code: str, old: str, new: str) -> str:
    assert old in code, f"mutation target {old!r} not in the reference"
    return code.replace(old, new, 1)


def renamed(code: str, suffix: str) -> str:
    """A variant's functions under suffixed names, with its own describe_model."""
    code = suffixed(code, ("build_model", "prepare_splits", "make_tuner"), suffix)
    if f"def build_model__{suffix}(" in code:
        code += (f"\n\ndef describe_model__{suffix}(hp_values):\n"
                 f"    return describe_hypermodel(build_model__{suffix}, hp_values)\n")
    return code


@pytest.fixture(scope="module")
def variants(source_cells, alice, tmp_path_factory):
    parts = [renamed(source_cells["build_model"], "reference"), renamed(alice["build_model"], "alice"),
             renamed(FIXED_MODEL, "fixed_model"), renamed(source_cells["prepare_splits"], "reference"),
             renamed(alice["prepare_splits"], "alice")]
    parts += [renamed(mutate(source_cells["build_model"], old, new), name) for name, old, new, _ in HYPERMODEL_BUGS]
    parts += [renamed(mutate(source_cells["prepare_splits"], old, new), name) for name, old, new, _ in SPLIT_BUGS]
    folder = tmp_path_factory.mktemp("kerastuner-variants")
    (folder / "variants.py").write_text(MODULE_HEADER + "\n\n".join(parts) + "\n")
    with StudentModule(folder / "variants.py", timeout_s=120) as module:
        yield module


def failed_checks(hidden, names, **arguments) -> set:
    """The shared helper, after the suite's ``explored`` fixture when ``explore_with`` is given
    (a failing fixture fails every check that needs it)."""
    if "explore_with" in arguments:
        try:
            arguments["explored"] = hidden.explore(arguments["explore_with"])
        except CheckFailure:
            return set(names)
    return conftest.failed_checks(hidden, names, **arguments)


def space_failures(hidden, variants, suffix) -> set:
    notebook = SuffixedModule(variants, suffix)
    return failed_checks(hidden, SPACE_CHECKS, notebook=notebook, explore_with=notebook, rng=np.random.default_rng(5))


@pytest.mark.parametrize("suffix", ["reference", "alice"])
def test_correct_hypermodels_pass_every_space_check(hidden, variants, suffix):
    assert space_failures(hidden, variants, suffix) == set()


@pytest.mark.parametrize("name,must_fail", [(b[0], b[3]) for b in HYPERMODEL_BUGS] + [("fixed_model", FIXED_MODEL_MUST_FAIL)],
                         ids=[b[0] for b in HYPERMODEL_BUGS] + ["fixed_model"])
def test_each_hypermodel_mistake_fails_its_checks(hidden, variants, name, must_fail):
    assert space_failures(hidden, variants, name) == must_fail


@pytest.mark.parametrize("suffix", ["reference", "alice"])
def test_correct_splits_pass(hidden, variants, suffix):
    assert failed_checks(hidden, SPLIT_CHECKS, notebook=SuffixedModule(variants, suffix), rng=np.random.default_rng(2)) == set()


@pytest.mark.parametrize("name,must_fail", [(b[0], b[3]) for b in SPLIT_BUGS], ids=[b[0] for b in SPLIT_BUGS])
def test_each_split_mistake_fails_its_checks(hidden, variants, name, must_fail):
    failed = failed_checks(hidden, SPLIT_CHECKS, notebook=SuffixedModule(variants, name), rng=np.random.default_rng(2))
    assert failed == must_fail


def test_a_redefined_describe_model_is_refused(hidden, repo, tmp_path):
    notebook = nbformat.read(str(repo.source / "kerastuner_mnist" / NOTEBOOK), as_version=4)
    assert hidden.wrapper_problem(repo.source / "kerastuner_mnist" / NOTEBOOK) is None
    notebook.cells.append(nbformat.v4.new_code_cell("def describe_model(hp_values):\n    return {'space': []}"))
    nbformat.write(notebook, str(tmp_path / NOTEBOOK))
    assert "describe_model" in hidden.wrapper_problem(tmp_path / NOTEBOOK)


# --- the tuner's files and the saved model, from a tiny real search ----------------------------

SEARCH_CHECKS = ["test_search_completed_within_budget", "test_saved_hyperparameters_are_the_best_trial"]


def run_search(cells: dict, folder, make_tuner_code: str):
    """The notebook's search, retraining and saving, on 400 fixture images (one epoch each)."""
    from hwtools.assignments import kerastuner_mnist as helpers
    from hwtools.data import mnist_digits_fixture

    namespace = {}
    exec(MODULE_HEADER + cells["prepare_splits"] + "\n" + cells["build_model"] + "\n" + make_tuner_code, namespace)
    (x_train, y_train), (x_test, y_test) = mnist_digits_fixture()
    (x_fit, y_fit), (x_val, y_val), _ = namespace["prepare_splits"](x_train, y_train, x_test, y_test, 400, 0.25)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        keras.utils.set_random_seed(0)
        tuner = namespace["make_tuner"](namespace["build_model"], {"max_trials": 2, "search_epochs": 1})
        tuner.search(x_fit, y_fit, validation_data=(x_val, y_val), epochs=1, batch_size=64, verbose=0)
        best = tuner.get_best_hyperparameters(1)[0]
        model = namespace["build_model"](best)
        model.fit(x_fit, y_fit, epochs=1, batch_size=64, verbose=0)
        model.save(helpers.BEST_MODEL_FILE)
        helpers.save_best_hyperparameters(best.values)
    finally:
        os.chdir(previous)
    return folder


@pytest.fixture(scope="module")
def searched(source_cells, tmp_path_factory):
    return run_search(source_cells, tmp_path_factory.mktemp("kt-search"), source_cells["make_tuner"])


def test_reference_search_passes_and_a_wrong_best_fails(hidden, searched):
    assert failed_checks(hidden, SEARCH_CHECKS, submission_dir=searched) == set()
    best = json.loads((searched / hidden.BEST_HYPERPARAMETERS_FILE).read_text())
    trials = hidden.completed_trials(searched)
    worst = min(trials, key=lambda trial: trial["score"])["hyperparameters"]["values"]
    (searched / hidden.BEST_HYPERPARAMETERS_FILE).write_text(json.dumps(worst))
    try:
        assert failed_checks(hidden, SEARCH_CHECKS, submission_dir=searched) == {
            "test_saved_hyperparameters_are_the_best_trial"}
    finally:
        (searched / hidden.BEST_HYPERPARAMETERS_FILE).write_text(json.dumps(best))


def test_a_search_on_another_objective_or_too_small_fails(hidden, source_cells, tmp_path):
    make_tuner = mutate(source_cells["make_tuner"], 'objective="val_accuracy", max_trials=settings["max_trials"]',
                        'objective="val_loss", max_trials=1')
    folder = run_search(source_cells, tmp_path, make_tuner)
    assert failed_checks(hidden, ["test_search_completed_within_budget"], submission_dir=folder) == {
        "test_search_completed_within_budget"}


def test_hyperband_search_passes(hidden, alice, source_cells, tmp_path):
    cells = dict(source_cells, build_model=alice["build_model"])
    folder = run_search(cells, tmp_path, alice["make_tuner"])
    assert failed_checks(hidden, SEARCH_CHECKS, submission_dir=folder) == set()


def test_saved_model_must_be_the_hypermodel_at_the_best_values(hidden, searched, variants):
    model = keras.saving.load_model(searched / hidden.BEST_MODEL_FILE, safe_mode=True)
    check = ["test_best_model_is_the_hypermodel_at_the_best_values"]
    assert failed_checks(hidden, check, best_model=model, notebook=SuffixedModule(variants, "reference"),
                         submission_dir=searched) == set()
    assert failed_checks(hidden, check, best_model=model, notebook=SuffixedModule(variants, "quadrupled_filters"),
                         submission_dir=searched) == set(check)


def test_an_undertrained_model_fails_the_accuracy_check(hidden, searched):
    model = keras.saving.load_model(searched / hidden.BEST_MODEL_FILE, safe_mode=True)
    for layer in model.layers:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    assert failed_checks(hidden, ["test_best_model_accuracy"], best_model=model, submission_dir=searched) == {
        "test_best_model_accuracy"}


def test_a_missing_model_fails_with_a_message(hidden, tmp_path):
    with pytest.raises(CheckFailure, match="was not saved"):
        hidden.load_best_model(tmp_path)
