"""Calibration of the medical assignment's thresholds: runs the source notebook's code for
several split and training seeds per budget and prints the test AUC and sensitivity that the
grader would measure, plus an untrained network's AUC (what the AUC threshold must reject).
Usage: python benchmarks/calibrate_medical.py [mode ...]   (figures go into hwtools/assignments/medical.py)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import nbformat
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLIT_SEEDS = (0, 1, 2, 3, 2024)
TRAIN_SEEDS = (0, 1)


def notebook_code() -> dict:
    notebook = nbformat.read(str(REPO / "source" / "medical" / "medical.ipynb"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.cell_type == "code" and "nbgrader" in c.metadata}


def run_once(code: dict, mode: str, split_seed: int, train_seed: int) -> dict:
    setup = (code["setup"].replace('budget("medical")', f'budget("medical", {mode!r})')
             .replace("SEED = seed_everything()", f"SEED = seed_everything({train_seed})")
             .replace("SPLIT_SEED = 2024", f"SPLIT_SEED = {split_seed}"))
    namespace: dict = {}
    for source in (setup, code["split_and_scale"], code["metrics"]):
        exec(source, namespace)
    exec(code["train"], namespace)
    exec(code["threshold"], namespace)
    exec(code["report"], namespace)
    untrained = namespace["build_model"](namespace["X_train"].shape[1])
    untrained_probabilities = untrained.predict(namespace["X_test"], verbose=0).ravel()
    untrained_auc = float(namespace["roc_auc_score"](namespace["t_test"], untrained_probabilities))
    report = namespace["test_report"]
    return {"auc": report["auc"], "sensitivity": report["sensitivity"], "untrained_auc": untrained_auc}


def main() -> None:
    matplotlib.use("Agg")
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    code = notebook_code()
    for mode in sys.argv[1:] or ("full", "grade", "ci"):
        rows = [run_once(code, mode, s, t) for s in SPLIT_SEEDS for t in TRAIN_SEEDS]
        for key in ("auc", "sensitivity", "untrained_auc"):
            values = np.array([r[key] for r in rows])
            print(f"{mode:5s} {key:14s} min {values.min():.4f} median {np.median(values):.4f} "
                  f"max {values.max():.4f} over {len(values)} runs", flush=True)


if __name__ == "__main__":
    main()
