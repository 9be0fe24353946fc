"""The hidden medical suite: the executed reference gets full marks; each known mistake
(leaky scaler, threshold tuned on test, benign as the positive class, accuracy-only report,
a model that outputs P(benign), a broken split, a metric that hides a degenerate case) loses
the points of the checks aimed at it. Mistakes that touch separate checks share one run."""
import json
import math
import shutil

import nbformat
import numpy as np
import pytest

from hwtools.assignments import medical
from conftest import executed_copy, suite_result
from hwtools.course.sample_class import fill_cells

FULL = 16.0
SCALER = "test_scaler_statistics_are_the_training_rows"
THRESHOLD = "test_threshold_is_chosen_on_validation"
REPORT = "test_report_matches_the_grader"
METRICS_DEFAULT = "test_metrics_default_positive_is_malignant"
DEGENERATE = "test_metrics_degenerate_raise_value_error"
PARTITION, STRATIFIED = "test_split_partitions_the_rows", "test_split_is_stratified"
AUC, SENSITIVITY = "test_test_auc", "test_test_sensitivity_at_threshold"
PROBABILITIES = "test_saved_test_probabilities_are_the_models"


@pytest.fixture(scope="module")
def executed(repo, tmp_path_factory):
    """The source notebook run top to bottom in the ci budget, with its artifacts."""
    folder = executed_copy(repo.source / "medical", "medical.ipynb", tmp_path_factory.mktemp("medical") / "reference")
    notebook = nbformat.read(str(folder / "medical.ipynb"), as_version=4)
    errors = [o["ename"] for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" and not c.metadata["nbgrader"]["grade_id"].startswith("hidden_")]
    assert errors == [], errors
    return folder


def variant(executed, tmp_path, name) -> "Variant":
    folder = tmp_path / name
    shutil.copytree(executed, folder)
    return Variant(folder)


class Variant:
    """A copy of the executed reference whose artifacts or notebook a test changes."""

    def __init__(self, folder):
        self.folder = folder
        self.data = medical.load_wdbc()

    def path(self, name):
        return medical.artifact_path(self.folder, name)

    def split(self):
        with np.load(self.path("split")) as saved:
            return {k: saved[k] for k in ("train", "val", "test")}

    def probabilities(self, rows):
        import keras

        with np.load(self.path("scaler")) as saved:
            inputs = (self.data[0][rows] - saved["mean"]) / saved["scale"]
        return keras.saving.load_model(self.path("model")).predict(inputs, verbose=0).ravel()

    def report(self):
        return json.loads(self.path("test_report").read_text())

    def write_report(self, report):
        self.path("test_report").write_text(json.dumps(report))

    def highest_threshold_reaching_target(self, part):
        rows = self.split()[part]
        scores = self.probabilities(rows)
        malignant = np.sort(scores[self.data[1][rows] == medical.MALIGNANT])[::-1]
        return float(malignant[math.ceil(medical.TARGET_SENSITIVITY * malignant.size - 1e-9) - 1])

    def set_threshold(self, value):
        self.path("threshold").write_text(json.dumps({"threshold": value}))

    def rescore(self):
        """Test probabilities and report made consistent with the (changed) model, scaler and threshold,
        as the student's own notebook would have made them."""
        from sklearn.metrics import confusion_matrix, recall_score, roc_auc_score

        rows = self.split()["test"]
        scores, truth = self.probabilities(rows), self.data[1][rows]
        np.save(self.path("test_probabilities"), scores.astype(np.float64))
        guess = np.where(scores >= json.loads(self.path("threshold").read_text())["threshold"], 0, 1)
        self.write_report({"sensitivity": recall_score(truth, guess, pos_label=0),
                           "specificity": recall_score(truth, guess, pos_label=1),
                           "auc": roc_auc_score(truth == 0, scores),
                           "confusion_matrix": confusion_matrix(truth, guess, labels=[0, 1]).tolist()})

    def replace_in_cell(self, grade_id, old, new):
        notebook = nbformat.read(str(self.folder / "medical.ipynb"), as_version=4)
        [source] = [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
        assert old in source, f"{old!r} not in cell {grade_id}"
        fill_cells(self.folder / "medical.ipynb", {grade_id: source.replace(old, new)})

    def grade(self, repo) -> dict:
        return suite_result(repo, "medical", self.folder)


def test_reference_gets_full_marks(repo, executed, tmp_path):
    result = variant(executed, tmp_path, "reference").grade(repo)
    assert result["failed"] == set(), result["messages"]
    assert result["score"] == FULL


def test_leaky_scaler_and_a_metric_hiding_degenerate_input(repo, executed, tmp_path):
    bad = variant(executed, tmp_path, "leaky")
    everything = bad.data[0]
    np.savez(bad.path("scaler"), mean=everything.mean(axis=0), scale=everything.std(axis=0))
    bad.set_threshold(bad.highest_threshold_reaching_target("val"))  # chosen with the leaky scaler
    bad.rescore()
    bad.replace_in_cell("metrics", 'raise ValueError("sensitivity and specificity need',
                        'return float("nan"), float("nan")  # ("sensitivity and specificity need')
    result = bad.grade(repo)
    assert result["failed"] == {SCALER, DEGENERATE}
    assert "ALL rows" in result["messages"][SCALER] and "expected a ValueError" in result["messages"][DEGENERATE]


def test_threshold_tuned_on_test_and_an_accuracy_only_report(repo, executed, tmp_path):
    bad = variant(executed, tmp_path, "tuned_on_test")
    split = bad.split()
    test_scores = bad.probabilities(split["test"])
    tuned = bad.highest_threshold_reaching_target("test")
    assert abs(tuned - json.loads(bad.path("threshold").read_text())["threshold"]) > 1e-3
    bad.set_threshold(tuned)
    bad.rescore()
    accuracy = np.mean((test_scores >= tuned) == (bad.data[1][split["test"]] == medical.MALIGNANT))
    bad.write_report({"accuracy": float(accuracy)})
    result = bad.grade(repo)
    assert result["failed"] == {THRESHOLD, REPORT}
    assert "never on the test part" in result["messages"][THRESHOLD]
    assert "accuracy alone" in result["messages"][REPORT]


def test_benign_as_the_positive_class(repo, executed, tmp_path):
    bad = variant(executed, tmp_path, "benign_positive")
    bad.replace_in_cell("metrics", "positive=MALIGNANT):", "positive=BENIGN):")
    report = bad.report()
    report["sensitivity"], report["specificity"] = report["specificity"], report["sensitivity"]
    bad.write_report(report)
    result = bad.grade(repo)
    assert result["failed"] == {METRICS_DEFAULT, REPORT}
    assert "test_report['sensitivity']" in result["messages"][REPORT]


def test_model_of_benign_and_a_broken_split(repo, executed, tmp_path):
    import keras

    bad = variant(executed, tmp_path, "benign_model")
    model = keras.saving.load_model(bad.path("model"))
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([-kernel, -bias])  # sigmoid(-z) = 1 - sigmoid(z): P(benign)
    model.save(bad.path("model"))
    split = bad.split()
    malignant_train = split["train"][bad.data[1][split["train"]] == medical.MALIGNANT][:14]
    np.savez(bad.path("split"), train=split["train"], val=split["val"],
             test=np.concatenate([split["test"][:100], malignant_train]))
    result = bad.grade(repo)
    assert {PARTITION, STRATIFIED, AUC, SENSITIVITY, THRESHOLD} <= result["failed"]
    assert SCALER not in result["failed"] and METRICS_DEFAULT not in result["failed"]
    assert "P(benign)" in result["messages"][AUC] and "more than once" in result["messages"][PARTITION]

