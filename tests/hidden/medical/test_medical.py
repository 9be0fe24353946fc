"""Hidden grading of the medical classifier from what the notebook saved in artifacts/.

The grader loads the data itself (the course's copy), checks the saved split and scaler
against it, predicts every row with the saved model and the saved scaler statistics, and
measures AUC, sensitivity and the threshold rule with scikit-learn as the reference.
Malignant (label 0) is the positive class throughout.
"""
import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, recall_score, roc_auc_score

from hwtools import budget
from hwtools.assignments import medical
from hwtools.checks import CheckFailure, assert_close
from hwtools.course import Course
from hwtools.grading import kit
from hwtools.grading.hidden_suite import record_metric

SETTINGS = budget.budget("medical")
PARTS = ("train", "val", "test")
SCORE_TOLERANCE = 1e-4  # float noise between the student's kernel and the grader


MISSING_HINT = "the notebook must run to its save cell"


def artifact(submission_dir, name):
    path = medical.artifact_path(submission_dir, name)
    if not path.is_file():
        raise CheckFailure(f"{path.relative_to(submission_dir)} is missing: {MISSING_HINT}")
    return path


def shown(submission_dir, name) -> str:
    return str(medical.artifact_path(submission_dir, name).relative_to(submission_dir))


def saved_arrays(submission_dir, name, keys):
    return kit.npz_arrays(medical.artifact_path(submission_dir, name), shown(submission_dir, name), keys, MISSING_HINT)


def saved_json(submission_dir, name) -> dict:
    return kit.json_object(medical.artifact_path(submission_dir, name), shown(submission_dir, name), MISSING_HINT)


@pytest.fixture(scope="module")
def data():
    features, labels, _ = medical.load_diagnosis_data(Course.locate().source / "medical")
    return features, labels


@pytest.fixture(scope="module")
def split(submission_dir, data):
    n_rows = len(data[1])
    parts = saved_arrays(submission_dir, "split", PARTS)
    for part in PARTS:
        rows = kit.returned_array(parts[part], f"split: {part}", ndim=1, kind="integer",
                                  shape_note="a 1-D array of integer row indices")
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            raise CheckFailure(f"split: {part} holds indices outside 0..{n_rows - 1}")
    return parts


@pytest.fixture(scope="module")
def scaler(submission_dir, data):
    saved = saved_arrays(submission_dir, "scaler", ("mean", "scale"))
    n_features = data[0].shape[1]
    return tuple(kit.returned_array(saved[key], f"scaler: {key}", shape=(n_features,),
                                    shape_note="one value per feature").astype(float) for key in ("mean", "scale"))


@pytest.fixture(scope="module")
def probabilities(submission_dir, data, scaler):
    """P(malignant) of every row, predicted by the grader with the saved model and scaler."""
    model = kit.load_model(medical.artifact_path(submission_dir, "model"), shown(submission_dir, "model"),
                           MISSING_HINT)
    mean, scale = scaler
    inputs = ((data[0] - mean) / np.where(scale == 0, 1.0, scale)).astype("float32")
    output = kit.predict(model, inputs, "the data's rows, scaled with your saved scaler",
                         name="the model's output (one P(malignant) per row)")
    if output.size != len(inputs):
        raise kit.ContractBroken("the model's output", "be one number per row (P(malignant))", f"shape {output.shape}")
    return output.reshape(-1)


@pytest.fixture(scope="module")
def threshold(submission_dir):
    saved = kit.required_keys(saved_json(submission_dir, "threshold"), ("threshold",), shown(submission_dir, "threshold"))
    return float(kit.returned_number(saved["threshold"], "threshold"))


def is_malignant(labels):
    return np.asarray(labels) == medical.MALIGNANT


def predicted_labels(scores, cut):
    return np.where(scores >= cut, medical.MALIGNANT, medical.BENIGN)


def both_classes(data, split, part):
    """The labels of a part, which must hold malignant and benign rows for its rates and AUC to exist."""
    labels = data[1][split[part]]
    malignant = is_malignant(labels)
    if malignant.all() or not malignant.any():
        holds = "no rows" if not len(labels) else "only malignant rows" if malignant.all() else "no malignant row"
        raise CheckFailure(f"not run: the {part} part of your split holds {holds}, so its sensitivity, "
                           "specificity and AUC are undefined (see the split checks)")
    return labels


@pytest.mark.points(1, group="hidden_split")
def test_split_partitions_the_rows(split, data):
    """split: every row in exactly one of train, validation and test (none shared, none left out), each >= 10 %"""
    joined = np.concatenate([split[part] for part in PARTS])
    counts = np.bincount(joined, minlength=len(data[1]))
    if counts.max() > 1:
        shared = [f"{a}/{b}" for i, a in enumerate(PARTS) for b in PARTS[i + 1:]
                  if np.intersect1d(split[a], split[b]).size]
        raise CheckFailure(f"{int(np.sum(counts > 1))} rows appear more than once (shared by {shared}): "
                           "a row in two parts leaks into the evaluation")
    if counts.min() == 0:
        raise CheckFailure(f"{int(np.sum(counts == 0))} of {len(counts)} rows are in no part")
    small = [p for p in PARTS if len(split[p]) < 0.1 * len(counts)]
    if small:
        raise CheckFailure(f"parts {small} hold under 10 % of the rows each")


@pytest.mark.points(1, group="hidden_split")
def test_split_is_stratified(split, data):
    """split: stratified, each part holds the data's share of malignant rows (within one row)"""
    share = is_malignant(data[1]).mean()
    for part in PARTS:
        rows = split[part]
        found = int(is_malignant(data[1][rows]).sum())
        expected = share * len(rows)
        if abs(found - expected) >= 2:
            raise CheckFailure(f"{part}: {found} malignant rows of {len(rows)}, a stratified split has "
                               f"{expected:.1f} (+-1); use stratify= or StratifiedShuffleSplit")


@pytest.mark.points(2, group="hidden_scaler")
def test_scaler_statistics_are_the_training_rows(scaler, split, data):
    """scaler: mean and standard deviation computed on the training rows only (never validation or test rows)"""
    mean, scale = scaler
    training = data[0][split["train"]]
    if np.allclose(mean, data[0].mean(axis=0), rtol=1e-9) and len(split["train"]) < len(data[1]):
        raise CheckFailure("scaler_mean equals the mean over ALL rows: the scaler was fitted on validation "
                           "and test rows too (leakage); fit it on the training rows only")
    assert_close(mean, training.mean(axis=0), rtol=1e-6, atol=1e-12, name="scaler_mean vs the training rows' mean")
    population, sample = training.std(axis=0), training.std(axis=0, ddof=1)
    closest = sample if np.abs(scale - sample).max() < np.abs(scale - population).max() else population
    assert_close(scale, closest, rtol=1e-6, atol=1e-12, name="scaler_scale vs the training rows' std")


@pytest.fixture(scope="module")
def notebook(student):
    return student("medical.ipynb", timeout_s=SETTINGS["hidden_call_timeout_s"])


def random_labels(rng):
    n = int(rng.integers(8, 300))
    truth = rng.integers(0, 2, size=n)
    truth[:2] = (0, 1)
    rng.shuffle(truth)
    guess = np.where(rng.random(n) < rng.uniform(0.5, 0.95), truth, 1 - truth)
    return truth, guess


def student_rates(notebook, truth, guess, **kwargs):
    value = notebook.call("sensitivity_specificity", truth, guess, **kwargs).value
    return returned_rates(value)


def returned_rates(value):
    """The contract: (sensitivity, specificity), two numbers in [0, 1]."""
    rates = kit.returned_tuple(value, 2, "sensitivity_specificity", "(sensitivity, specificity)")
    for name, rate in zip(("sensitivity", "specificity"), rates):
        if not 0 <= kit.returned_number(rate, name) <= 1:
            raise kit.ContractBroken(name, "be a share in [0, 1]", repr(rate))
    return rates


def check_rates(notebook, rng, positive, pass_positive):
    for trial in range(6):
        truth, guess = random_labels(rng)
        as_list = trial % 2 == 1
        args = (truth.tolist(), guess.tolist()) if as_list else (truth, guess)
        kwargs = {"positive": positive} if pass_positive else {}
        value = student_rates(notebook, *args, **kwargs)
        expected = (recall_score(truth, guess, pos_label=positive), recall_score(truth, guess, pos_label=1 - positive))
        kind = "lists" if as_list else "arrays"
        assert_close(value, expected, rtol=1e-9, atol=1e-12,
                     name=f"(sensitivity, specificity) with positive={positive} for {len(truth)} labels as {kind}")


@pytest.mark.points(2, group="hidden_metrics")
def test_metrics_default_positive_is_malignant(notebook, rng):
    """sensitivity_specificity: TP / (TP + FN) and TN / (TN + FP), default positive class malignant (0), as scikit-learn"""
    check_rates(notebook, rng, medical.MALIGNANT, pass_positive=False)


@pytest.mark.points(1, group="hidden_metrics")
def test_metrics_positive_one(notebook, rng):
    """sensitivity_specificity with positive=1: benign is the positive class, matches scikit-learn's recall"""
    check_rates(notebook, rng, medical.BENIGN, pass_positive=True)


@pytest.mark.points(1, group="hidden_metrics")
def test_metrics_degenerate_raise_value_error(notebook, rng):
    """sensitivity_specificity: y_true with no positive (or no negative) row raises ValueError (if a mixed y_true works)"""
    for label, missing in ((medical.BENIGN, "no malignant"), (medical.MALIGNANT, "no benign")):
        guess = rng.integers(0, 2, size=12)
        mixed = np.full(12, label)
        mixed[rng.choice(12, size=4, replace=False)] = 1 - label
        kit.expect_error(notebook, "sensitivity_specificity", valid=((mixed, guess), {}),
                         invalid=((np.full(12, label), guess), {}), error="ValueError", check_valid=returned_rates,
                         valid_case="a y_true of both classes and the same y_pred", case=f"y_true with {missing} rows")


@pytest.mark.points(2, group="hidden_threshold")
def test_threshold_is_chosen_on_validation(threshold, probabilities, split, data):
    """threshold: the highest one whose validation sensitivity reaches 0.95, chosen on validation rows (never test)"""
    scores = probabilities[split["val"]]
    malignant = is_malignant(both_classes(data, split, "val"))
    ranked = np.sort(scores[malignant])[::-1]
    needed = math.ceil(medical.TARGET_SENSITIVITY * ranked.size - 1e-9)
    best = float(ranked[needed - 1])
    if abs(threshold - best) > SCORE_TOLERANCE:
        ours = recall_score(malignant, scores >= threshold), recall_score(~malignant, scores < threshold)
        rule = recall_score(malignant, scores >= best), recall_score(~malignant, scores < best)
        raise CheckFailure(
            f"your threshold is {threshold:.5g}; with your model the highest threshold reaching validation "
            f"sensitivity {medical.TARGET_SENSITIVITY} is {best:.5g}. Validation (sensitivity, specificity): "
            f"yours ({ours[0]:.3f}, {ours[1]:.3f}), the rule's ({rule[0]:.3f}, {rule[1]:.3f}). Choose it on "
            "the validation part, never on the test part")


@pytest.mark.points(2, group="hidden_model")
def test_test_auc(probabilities, split, data):
    """model: ROC AUC of P(malignant) on the test rows at least the budget's minimum, measured by the grader"""
    auc = roc_auc_score(is_malignant(both_classes(data, split, "test")), probabilities[split["test"]])
    record_metric("test_auc", auc)  # for hw leaderboard: the grader's number, below the minimum too
    hint = " (below 0.5: does your model output P(benign) instead of P(malignant)?)" if auc < 0.5 else ""
    if auc < SETTINGS["min_test_auc"]:
        raise CheckFailure(f"test AUC {auc:.4f}, needs >= {SETTINGS['min_test_auc']}{hint}")


@pytest.mark.points(2, group="hidden_model")
def test_test_sensitivity_at_threshold(probabilities, threshold, split, data):
    """model: test sensitivity (malignant positive) at your saved threshold at least the budget's minimum"""
    truth = both_classes(data, split, "test")
    found = recall_score(truth, predicted_labels(probabilities[split["test"]], threshold), pos_label=medical.MALIGNANT)
    if found < SETTINGS["min_test_sensitivity"]:
        raise CheckFailure(f"test sensitivity (malignant positive) {found:.3f} at threshold {threshold:.4g}, "
                           f"needs >= {SETTINGS['min_test_sensitivity']}")


@pytest.mark.points(1, group="hidden_report")
def test_saved_test_probabilities_are_the_models(submission_dir, probabilities, split):
    """test_probabilities: the saved model's P(malignant) for the test rows, in test_idx order (within 1e-4)"""
    try:
        saved = np.load(artifact(submission_dir, "test_probabilities"), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise CheckFailure(f"{shown(submission_dir, 'test_probabilities')} cannot be read as a .npy array: {err}") from None
    saved = kit.returned_array(saved, "test_probabilities", shape=(len(split["test"]),),
                               shape_note="one probability per test row")
    assert_close(saved, probabilities[split["test"]], rtol=0, atol=1e-4,
                 name="test_probabilities vs the grader's predictions of your model")


@pytest.mark.points(1, group="hidden_report")
def test_report_matches_the_grader(submission_dir, probabilities, threshold, split, data):
    """test_report: sensitivity, specificity, AUC (malignant positive) and the confusion matrix as the grader measures them"""
    report = saved_json(submission_dir, "test_report")
    missing = [key for key in medical.REPORT_KEYS if key not in report]
    if missing:
        raise CheckFailure(f"test_report lacks {missing} (has {sorted(report)[:6]}): accuracy alone hides the "
                           "missed cancers; report what a clinician needs")
    truth = both_classes(data, split, "test")
    scores = probabilities[split["test"]]
    guess = predicted_labels(scores, threshold)
    expected = {
        "sensitivity": recall_score(truth, guess, pos_label=medical.MALIGNANT),
        "specificity": recall_score(truth, guess, pos_label=medical.BENIGN),
        "auc": roc_auc_score(is_malignant(truth), scores),
    }
    for key, value in expected.items():
        assert_close(report[key], value, rtol=0, atol=1e-4, name=f"test_report[{key!r}] (malignant positive)")
    matrix = confusion_matrix(truth, guess, labels=[medical.MALIGNANT, medical.BENIGN])
    assert_close(report["confusion_matrix"], matrix, rtol=0, atol=0,
                 name="test_report['confusion_matrix'] (rows true, columns predicted; malignant first)")
