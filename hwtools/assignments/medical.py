"""Medical classifier (seed 000, Q2): the data loader, the artifact contract and the budgets.

Data: scikit-learn's Wisconsin Diagnostic Breast Cancer set (569 x 30, ships offline), or an
instructor's ``diagnosis.csv`` beside the notebook (features + a binary ``diagnosis`` column).
Labels follow scikit-learn: 0 = malignant (the positive class for a clinician), 1 = benign.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwtools import data

MALIGNANT, BENIGN = 0, 1
TARGET_SENSITIVITY = 0.95
INSTRUCTOR_CSV = "diagnosis.csv"
DIAGNOSIS_COLUMN = "diagnosis"
MIN_ROWS_PER_CLASS = 10
ARTIFACTS_DIR = "artifacts"
ARTIFACT_FILES = {
    "model": "model.keras",
    "scaler": "scaler.npz",
    "split": "split.npz",
    "threshold": "threshold.json",
    "test_probabilities": "test_probabilities.npy",
    "test_report": "test_report.json",
}
REPORT_KEYS = ("sensitivity", "specificity", "auc", "confusion_matrix")
_LABEL_WORDS = {"m": MALIGNANT, "malignant": MALIGNANT, "b": BENIGN, "benign": BENIGN}

# Calibration (benchmarks/calibrate_medical.py, 2-core CPU under load): the source solution for
# split seeds 0, 1, 2, 3, 2024 x training seeds 0, 1 (10 runs per mode). Test AUC min / median:
# full 0.9951 / 0.9977, grade 0.9951 / 0.9977 (early stopping ends both before 120 epochs),
# ci 0.9954 / 0.9972. Test sensitivity at the threshold chosen on validation for 0.95, min /
# median: 0.9535 / 0.9767 in every mode (41 of 43 tumours). Another correct style (the sample
# student alice: one hidden layer, oversampling, StratifiedShuffleSplit) measured AUC 0.99+ but
# sensitivity 0.857 in ci (6 of 42 missed): with about 42 tumours in a test part, sensitivity at
# a validation-chosen threshold moves by +-0.05 between correct solutions. What must fail: an
# untrained network scored AUC 0.22-0.86; a model that outputs P(benign) has 1 - AUC (< 0.01)
# and sensitivity near 0. Thresholds: AUC 0.99 in full (the assignment's target, 0.005 under the
# minimum seen), 0.98 in grade and ci (0.015 margin for other architectures and split seeds);
# sensitivity 0.85 in full and 0.80 in grade and ci (two to three tumours below alice's 0.857).
BUDGET = {
    "full": {"max_epochs": 300, "patience": 30, "batch_size": 32,
             "min_test_auc": 0.99, "min_test_sensitivity": 0.85, "hidden_call_timeout_s": 20},
    "grade": {"max_epochs": 120, "patience": 15, "batch_size": 32,
              "min_test_auc": 0.98, "min_test_sensitivity": 0.80, "hidden_call_timeout_s": 20},
    "ci": {"max_epochs": 40, "patience": 8, "batch_size": 32,
           "min_test_auc": 0.98, "min_test_sensitivity": 0.80, "hidden_call_timeout_s": 20},
}


class DiagnosisDataError(ValueError):
    """An instructor's CSV that cannot serve as the assignment's data; the message says why."""


def announce(message: str) -> None:
    data.announce(message, "hwtools.medical")


def load_wdbc():
    """scikit-learn's Wisconsin Diagnostic Breast Cancer set: X (569, 30), y (0 = malignant), names."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    announce("data: Wisconsin Diagnostic Breast Cancer (scikit-learn, real patients, ships offline), "
             f"{bunch.data.shape[0]} rows x {bunch.data.shape[1]} features, 0 = malignant, 1 = benign")
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64), list(bunch.feature_names)


def _diagnosis_labels(column, path: Path) -> np.ndarray:
    """0/1 labels from M/B, malignant/benign or 0/1 (0 = malignant), refusing anything else."""
    values = column.dropna()
    if len(values) != len(column):
        raise DiagnosisDataError(f"{path}: {len(column) - len(values)} rows have no {DIAGNOSIS_COLUMN!r} value")
    if values.dtype.kind in "biuf":
        unknown = sorted(set(values.unique()) - {0, 1})
        if unknown:
            raise DiagnosisDataError(f"{path}: numeric {DIAGNOSIS_COLUMN!r} must be 0 (malignant) or 1 (benign), "
                                     f"found {unknown[:5]}")
        return values.to_numpy().astype(np.int64)
    words = values.astype(str).str.strip().str.lower()
    unknown = sorted(set(words.unique()) - set(_LABEL_WORDS))
    if unknown:
        raise DiagnosisDataError(f"{path}: {DIAGNOSIS_COLUMN!r} must hold M/B, malignant/benign or 0/1, "
                                 f"found {unknown[:5]}")
    return words.map(_LABEL_WORDS).to_numpy().astype(np.int64)


def read_diagnosis_csv(path):
    """An instructor's CSV of the same kind: numeric feature columns and a binary diagnosis column.

    An ``id`` column and columns that are entirely empty (the WDBC CSV's trailing comma) are
    dropped with a note; anything else that is not numeric is an error naming the columns.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DiagnosisDataError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as err:
        raise DiagnosisDataError(f"{path}: not a readable CSV ({err})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    by_lower = {c.lower(): c for c in frame.columns}
    if DIAGNOSIS_COLUMN not in by_lower:
        raise DiagnosisDataError(f"{path}: no {DIAGNOSIS_COLUMN!r} column (columns: {list(frame.columns)[:8]}...)")
    labels = _diagnosis_labels(frame[by_lower[DIAGNOSIS_COLUMN]], path)
    dropped = [c for c in frame.columns if c.lower() == "id" or frame[c].isna().all()]
    features = frame.drop(columns=dropped + [by_lower[DIAGNOSIS_COLUMN]])
    text = [c for c in features.columns if features[c].dtype.kind not in "biuf"]
    if text:
        raise DiagnosisDataError(f"{path}: feature columns must be numeric; not numeric: {text[:8]}")
    if features.shape[1] == 0:
        raise DiagnosisDataError(f"{path}: no feature columns besides {DIAGNOSIS_COLUMN!r}")
    missing = features.columns[features.isna().any()].tolist()
    if missing:
        raise DiagnosisDataError(f"{path}: missing values in columns {missing[:8]}; fill or drop them first")
    counts = np.bincount(labels, minlength=2)
    if counts.min() < MIN_ROWS_PER_CLASS:
        raise DiagnosisDataError(f"{path}: {counts[MALIGNANT]} malignant and {counts[BENIGN]} benign rows; a "
                                 f"stratified three-way split needs at least {MIN_ROWS_PER_CLASS} of each")
    note = f" (dropped {dropped})" if dropped else ""
    announce(f"data: instructor's CSV {path}, {len(labels)} rows x {features.shape[1]} features{note}, "
             "0 = malignant, 1 = benign")
    return features.to_numpy(dtype=np.float64), labels, list(features.columns)


def load_diagnosis_data(folder="."):
    """The assignment's data: ``diagnosis.csv`` in ``folder`` if the instructor put one there,
    else scikit-learn's breast cancer set. Returns X (float64), y (0 = malignant), feature names."""
    path = Path(folder) / INSTRUCTOR_CSV
    return read_diagnosis_csv(path) if path.is_file() else load_wdbc()


def artifact_path(folder, name: str) -> Path:
    """Where the artifact ``name`` (a key of ARTIFACT_FILES) lives in an assignment folder."""
    return Path(folder) / ARTIFACTS_DIR / ARTIFACT_FILES[name]


def _index_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D array of integer row indices, got {array.dtype} of shape {array.shape}")
    return array.astype(np.int64)


def save_artifacts(folder, *, model, scaler_mean, scaler_scale, train_idx, val_idx, test_idx, threshold,
                   test_probabilities, test_report) -> Path:
    """Write what the grader measures to ``folder/artifacts`` (paths in ARTIFACT_FILES)."""
    target = Path(folder) / ARTIFACTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    model.save(artifact_path(folder, "model"))
    np.savez(artifact_path(folder, "scaler"), mean=np.asarray(scaler_mean, dtype=np.float64),
             scale=np.asarray(scaler_scale, dtype=np.float64))
    np.savez(artifact_path(folder, "split"), train=_index_array(train_idx, "train_idx"),
             val=_index_array(val_idx, "val_idx"), test=_index_array(test_idx, "test_idx"))
    artifact_path(folder, "threshold").write_text(json.dumps({"threshold": float(threshold)}))
    np.save(artifact_path(folder, "test_probabilities"), np.asarray(test_probabilities, dtype=np.float64).ravel())
    report = {key: np.asarray(value).tolist() for key, value in dict(test_report).items()}
    artifact_path(folder, "test_report").write_text(json.dumps(report, indent=1))
    return target
