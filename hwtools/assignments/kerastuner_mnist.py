"""KerasTuner MNIST CNN (seed 000, Q1): the budget per mode, the seed's limits on the search
space, and helpers the notebook uses (data, a plain-data description of a hypermodel, the
trials table and plot).

Thresholds: see the calibration comments beside them. The grader measures the saved best
model itself; the student's printed numbers never count.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwtools.data import load_mnist

# Artifacts the notebook saves beside itself and the grader reads.
BEST_MODEL_FILE = "kerastuner_best_model.keras"
BEST_HYPERPARAMETERS_FILE = "kerastuner_best_hyperparameters.json"
TUNER_DIRECTORY = "kerastuner_search"
TUNER_PROJECT = "mnist_cnn"
REAL_MNIST_TEST_SIZE = 10_000

# The seed's limits on the search space (the grader enforces them on every model it builds).
LIMITS = {"conv_layers": (1, 5), "dense_layers": (0, 5), "filters": 256, "units": 256, "learning_rate": 1e-3}
# Hyperparameter names the grader fixes; per-layer names carry the layer's index from 0.
HYPERPARAMETER_NAMES = ("conv_layers", "filters_{i}", "dense_layers", "units_{i}", "optimizer", "learning_rate")

# Accuracy of the saved best model, measured by the grader on the loader's whole test split.
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


def load_mnist_tagged():
    """MNIST through hwtools' loader, with "real" or "fixture" for the thresholds that apply."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    source = "real" if len(x_test) == REAL_MNIST_TEST_SIZE else "fixture"
    return (x_train, y_train), (x_test, y_test), source


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


def describe_hypermodel(build_model, hp_values: dict) -> dict:
    """Build ``build_model`` with these hyperparameter values fixed (the rest at their
    defaults) and describe the result in plain data: the registered search space, the values
    used, the layers, the optimizer and whether a batch goes through the model."""
    import keras
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.values.update(hp_values)
    model = build_model(hp)
    optimizer = getattr(model, "optimizer", None)
    learning_rate = None
    if optimizer is not None:
        try:
            learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        except (TypeError, ValueError):
            learning_rate = type(optimizer.learning_rate).__name__
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
