"""Training-based grades measure the student's choices (issue 19, item 5): kerastuner_mnist's
accuracy points must not hinge on the short search's draw in the grade budget.

The issue's case: a correct functional hypermodel (conv-BN-ReLU blocks, global average
pooling, a log-sampled learning rate, the documented names) scored 13/16 because the grade
run's 3-trial, one-epoch search drew a corner of its space (a low learning rate) that stays at
chance after the retraining. The full run (10 trials of 5 epochs) now records its choice in
kerastuner_chosen_hyperparameters.json, handed in with the notebook; the grade run still
searches (its trials are graded) but retrains that recorded choice, and the accuracy graded
is that model's. Run against the previous notebook and suite, the submission with the record
lost the accuracy points: the run retrained its own draw.

The record here stands for what the student's full run wrote (an hour of search on this
CPU): the hyperparameters a 10-trial search of this space finds, three blocks at a learning
rate of 1e-3."""
import json
import shutil

import nbformat
import pytest

from conftest import executed_copy, suite_result
from hwtools.assignments.kerastuner_mnist import CHOSEN_HYPERPARAMETERS_FILE

NOTEBOOK = "kerastuner_mnist.ipynb"
FULL = 16.0
ACCURACY = "test_best_model_accuracy"

FUNCTIONAL_HYPERMODEL = '''
def build_model(hp):
    """conv-BN-ReLU blocks, global average pooling, a log-sampled learning rate (functional API)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for i in range(hp.Int("conv_layers", 1, 3)):
        x = keras.layers.Conv2D(hp.Int(f"filters_{i}", 8, 128, step=8), 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    for i in range(hp.Int("dense_layers", 0, 1)):
        x = keras.layers.Dense(hp.Int(f"units_{i}", 32, 128, step=32), activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
    optimizer = optimizers[hp.Choice("optimizer", ["adam", "rmsprop"])](
        learning_rate=hp.Float("learning_rate", 1e-5, 1e-3, sampling="log"))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''
# What the student's full run recorded (record_full_search writes this shape).
FULL_RUN_RECORD = {"mode": "full", "completed_trials": 10, "best_val_accuracy": 0.991,
                   "values": {"conv_layers": 3, "filters_0": 32, "filters_1": 64, "filters_2": 128,
                              "dense_layers": 0, "optimizer": "adam", "learning_rate": 0.001}}


def submission(repo, folder, record: dict | None):
    """The source notebook with the functional hypermodel as build_model, and the record handed in."""
    shutil.copytree(repo.source / "kerastuner_mnist", folder)
    notebook = nbformat.read(str(folder / NOTEBOOK), as_version=4)
    [cell] = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "build_model"]
    cell.source = FUNCTIONAL_HYPERMODEL.strip()
    nbformat.write(notebook, str(folder / NOTEBOOK))
    if record is not None:
        (folder / CHOSEN_HYPERPARAMETERS_FILE).write_text(json.dumps(record))
    return folder


@pytest.fixture(scope="module")
def with_record(repo, tmp_path_factory):
    root = tmp_path_factory.mktemp("kt-choice")
    return executed_copy(submission(repo, root / "source", FULL_RUN_RECORD), NOTEBOOK, root / "executed")


def test_the_grade_run_retrains_the_recorded_choice_and_it_gets_the_accuracy_points(repo, with_record):
    printed = "".join(o.get("text", "") for c in nbformat.read(str(with_record / NOTEBOOK), as_version=4).cells
                      if c.cell_type == "code" for o in c.outputs)
    assert "the choice of your full-budget search" in printed
    result = suite_result(repo, "kerastuner_mnist", with_record)
    assert ACCURACY not in result["failed"], result["messages"][ACCURACY]
    assert result["failed"] == set(), result["messages"]
    assert result["score"] == FULL
    # the search of this run is still graded as it ran, and its best trial is not what was retrained
    best = json.loads((with_record / "kerastuner_best_hyperparameters.json").read_text())
    assert {k: v for k, v in best.items() if not k.startswith("tuner/")} != FULL_RUN_RECORD["values"]


def test_a_record_outside_the_students_space_is_refused(repo, with_record, tmp_path):
    folder = shutil.copytree(with_record, tmp_path / "outside")
    record = dict(FULL_RUN_RECORD, values=dict(FULL_RUN_RECORD["values"], filters_2=256))
    (folder / CHOSEN_HYPERPARAMETERS_FILE).write_text(json.dumps(record))
    result = suite_result(repo, "kerastuner_mnist", folder)
    check = "test_best_model_is_the_hypermodel_at_the_best_values"
    assert check in result["failed"] and "filters_2=256 (range 8 to 128)" in result["messages"][check]
