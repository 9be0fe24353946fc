"""KerasTuner MNIST CNN (seed 000, Q1): the budget per mode, the seed's limits on the search
space, and helpers the notebook uses (data, a plain-data description of a hypermodel, the
trials table and plot, the record of the full search's choice).

Thresholds: see the calibration comments beside them. The grader measures the saved best
model itself; the student's printed numbers never count.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwtools import budget
from hwtools.data import load_mnist_tagged  # noqa: F401  (the notebook imports it from here)

# Artifacts the notebook saves beside itself and the grader reads.
BEST_MODEL_FILE = "kerastuner_best_model.keras"
BEST_HYPERPARAMETERS_FILE = "kerastuner_best_hyperparameters.json"
# The student's own choice (issue 19, item 5): the best hyperparameters of the full-budget
# search (10 trials of 5 epochs), recorded by the notebook when HW_MODE=full and handed in with
# it. The grade and ci runs search too (the tuner's files are graded), but 2-3 trials of one
# epoch mostly say which corner the draw hit, not what the student's space and tuner find: so
# they retrain the recorded choice when there is one, and the accuracy measures that.
CHOSEN_HYPERPARAMETERS_FILE = "kerastuner_chosen_hyperparameters.json"
TUNER_DIRECTORY = "kerastuner_search"
TUNER_PROJECT = "mnist_cnn"

# The seed's limits on the search space (the grader enforces them on every model it builds).
LIMITS = {"conv_layers": (1, 5), "dense_layers": (0, 5), "filters": 256, "units": 256, "learning_rate": 1e-3}

# Accuracy of the saved best model, measured by the grader on the loader's whole test split,
# with its BatchNormalization layers (if any) using the statistics of 1000 training images
# (hwtools.grading.kit.with_population_batchnorm), and retrained at the student's recorded
# full-search choice where one was handed in (CHOSEN_HYPERPARAMETERS_FILE).
# Issue 19: a correct functional conv-BN-ReLU / global-average-pooling hypermodel at a good
# point of its space (3 blocks of 32-64-128 filters, Adam 1e-3), retrained by the ci budget
# (228 steps): training-mode accuracy 1.00 on the test images, inference 0.10-0.21, because
# 0.99**228 = 0.10 of the moving variance's start (1.0) remains where the first block's
# output varies by 0.002-0.005; with the training images' statistics: 0.997
# (tests/test_hidden_kerastuner_choice.py passes it at 16/16). The reference (no BN) is unchanged.
# Calibration (the reference notebook executed end to end, offline fixture: 1500 training
# images, 297 test images; a model with zeroed weights scores about 0.10):
#   ci, seeds 0-2 (a first space with 32-256 filters): 0.933 0.835 0.963 -> threshold 0.60
#     (min - 0.23: the search picks random, sometimes deep configurations on 1200 images)
#   ci, the final space (16-128 filters): passes in tests/test_kerastuner_mnist_class.py
#   grade, seed 0 (the first space, 2 search epochs): 0.963; the final grade budget (1 search
#     epoch) passes in benchmarks/grade_one.py (86 s per submission) -> threshold 0.75
#   full: not run here (an hour on this CPU); fixture threshold 0.90 by analogy.
# "real": no real MNIST reaches this machine, so these are not measured here. The full
# budget's target is the assignment's 0.993 on the real test set; grade and ci keep wide
# margins below what such a search reaches on as many real images. Recalibrate (more seeds,
# real data) where MNIST is cached.
BUDGET = {
    "full": {"n_train": None, "batch_size": 64, "validation_fraction": 0.1, "max_trials": 10, "search_epochs": 5,
             "final_epochs": 15, "min_completed_trials": 5, "hidden_call_timeout_s": 120,
             "min_test_accuracy": {"real": 0.993, "fixture": 0.90}},
    "grade": {"n_train": 3000, "batch_size": 32, "validation_fraction": 0.2, "max_trials": 3, "search_epochs": 1,
              "final_epochs": 5, "min_completed_trials": 2, "hidden_call_timeout_s": 120,
              "min_test_accuracy": {"real": 0.95, "fixture": 0.75}},
    "ci": {"n_train": 1500, "batch_size": 32, "validation_fraction": 0.2, "max_trials": 2, "search_epochs": 1,
           "final_epochs": 6, "min_completed_trials": 2, "hidden_call_timeout_s": 120,
           "min_test_accuracy": {"real": 0.90, "fixture": 0.60}},
}


def _layer_summary(layer) -> dict:
    """Type and the sizes that matter for the limits, as plain data."""
    config = layer.get_config()
    summary = {"type": type(layer).__name__}
    for key in ("filters", "units", "rate"):
        if key in config:
            summary[key] = config[key]
    for key in ("kernel_size", "pool_size"):
        if key in config:
            summary[key] = list(config[key]) if isinstance(config[key], (list, tuple)) else [config[key]]
    if "activation" in config:
        summary["activation"] = str(config["activation"])
    return summary


def _flat_layers(model) -> list:
    """Every leaf layer, nested models opened, the input layers left out."""
    leaves = []
    for layer in (found for found in model.layers if type(found).__name__ != "InputLayer"):
        leaves.extend(_flat_layers(layer) if hasattr(layer, "layers") else [layer])
    return leaves


def _space_entry(hyperparameter) -> dict:
    config = hyperparameter.get_config()
    entry = {"name": config["name"], "type": type(hyperparameter).__name__}
    for key in ("min_value", "max_value", "step", "sampling", "values", "value", "default"):
        if key in config and isinstance(config[key], (int, float, str, bool, list, type(None))):
            entry[key] = config[key]
    return entry


def learning_rate_of(optimizer):
    """An optimizer's learning rate as a float, or the name of what stands there (a schedule)."""
    import keras

    try:
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (TypeError, ValueError):
        return type(optimizer.learning_rate).__name__


def describe_hypermodel(build_model, hp_values: dict) -> dict:
    """Build ``build_model`` with these hyperparameter values fixed (the rest at their
    defaults) and describe the result in plain data: the registered search space, the values
    used, the layers, the optimizer and whether a batch goes through the model."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.values.update(hp_values)
    model = build_model(hp)
    optimizer = getattr(model, "optimizer", None)
    learning_rate = learning_rate_of(optimizer) if optimizer is not None else None
    probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), dtype="float32")), dtype="float64")
    return {
        "space": [_space_entry(h) for h in hp.space],
        "values": {k: v for k, v in hp.values.items() if isinstance(v, (int, float, str, bool))},
        "layers": [_layer_summary(layer) for layer in _flat_layers(model)],
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "learning_rate": learning_rate,
        "compiled": bool(getattr(model, "compiled", False)),
        "output": probabilities,
    }


def save_best_hyperparameters(values: dict, path: str = BEST_HYPERPARAMETERS_FILE) -> None:
    """The best trial's hyperparameter values as JSON (the tuner's own keys kept)."""
    Path(path).write_text(json.dumps(values, indent=1, sort_keys=True))


def _tunable(values: dict) -> dict:
    """The hypermodel's own values: plain data, without the tuner's bookkeeping ("tuner/...")."""
    return {k: v for k, v in values.items()
            if not str(k).startswith("tuner/") and isinstance(v, (int, float, str, bool))}


def record_full_search(values: dict, table=None, path: str = CHOSEN_HYPERPARAMETERS_FILE) -> str | None:
    """In the full budget, record the best hyperparameters of this search: the choice the
    autograder's shorter run retrains (hand the file in with the notebook). Other budgets never
    write it. Returns the path written, or None."""
    if budget.mode() != "full":
        return None
    record = {"mode": "full", "values": _tunable(values)}
    if table is not None:
        completed = table[table["status"] == "COMPLETED"]
        record["completed_trials"] = int(len(completed))
        record["best_val_accuracy"] = float(completed["score"].max()) if len(completed) else None
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True))
    return str(path)


def recorded_choice(folder=".") -> tuple[dict | None, str]:
    """(the recorded full search's values, or None; why not, when None) from
    ``folder/CHOSEN_HYPERPARAMETERS_FILE``."""
    path = Path(folder) / CHOSEN_HYPERPARAMETERS_FILE
    if not path.is_file():
        return None, f"no {CHOSEN_HYPERPARAMETERS_FILE} from your full run was handed in"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return None, f"{CHOSEN_HYPERPARAMETERS_FILE} cannot be read ({err})"
    values = record.get("values") if isinstance(record, dict) else None
    if not isinstance(values, dict) or not values or record.get("mode") != "full":
        return None, f"{CHOSEN_HYPERPARAMETERS_FILE} is not a record of a full-budget search (make it with HW_MODE=full)"
    tunable = _tunable(values)
    if tunable != values:
        return None, f"{CHOSEN_HYPERPARAMETERS_FILE} holds values that are not plain hyperparameter values"
    return tunable, ""


def hyperparameters_to_retrain(best_values: dict, folder=".") -> tuple[dict, str]:
    """(the values the notebook retrains and saves, where they come from, in words). In the full
    budget: this search's best. Otherwise: the recorded full search's choice when it was handed
    in, else this run's best (and why, so the student can hand the record in)."""
    if budget.mode() == "full":
        return _tunable(best_values), "the best trial of this search"
    chosen, why_not = recorded_choice(folder)
    if chosen is not None:
        return chosen, f"the choice of your full-budget search (recorded in {CHOSEN_HYPERPARAMETERS_FILE})"
    return _tunable(best_values), f"the best trial of this run's short search ({why_not})"


def fixed_hyperparameters(values: dict):
    """A KerasTuner HyperParameters whose values are fixed: build_model(hp) builds that model."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    return hp


def trials_table(tuner):
    """One row per trial: its id, status, score (the objective) and hyperparameter values."""
    import pandas as pd

    rows = [{"trial": trial.trial_id, "status": trial.status, "score": trial.score, **trial.hyperparameters.values}
            for trial in tuner.oracle.trials.values()]
    return pd.DataFrame(rows).sort_values("score", ascending=False, na_position="last").reset_index(drop=True)


def plot_trials(table):
    """The objective (validation accuracy) of each trial, best first."""
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(max(4, 0.6 * len(table)), 3))
    axis.bar(table["trial"].astype(str), table["score"].fillna(0))
    axis.set_xlabel("trial")
    axis.set_ylabel("validation accuracy")
    axis.set_ylim(0, 1)
    fig.tight_layout()
    return fig
