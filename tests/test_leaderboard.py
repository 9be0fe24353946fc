"""``hw leaderboard`` (issue 24): the class ranked by the number the grader measured itself.

One small medical class is graded once through ``hw autograde``'s driver (ci budget): the
instructor's solution, alice_correct (the sample class), carol_stub (the untouched release, no
model) and eve, whose notebook trains on inverted labels (her model outputs P(benign): a test
AUC near 0) but prints and saves a test AUC of 0.999 and text shaped like the grader's results.
The leaderboard must rank by the grader's AUC (eve last), show pseudonyms unless the course
opts into names, and leave no trace in anyone's feedback.
"""
from __future__ import annotations

import csv
import json
import re

import nbformat
import pytest

from conftest import copy_course, submit_folder, submit_source_solution
from hwtools.course import leaderboard
from hwtools.grading.results import SubmissionResult, checked_metrics

ASSIGNMENT = "medical"
NOTEBOOK = "medical.ipynb"
EVE = "eve_prints_high"
HONEST = ("reference_solution", "alice_correct")
EXPECTED_SCORES = {"reference_solution": 16.0, "alice_correct": 16.0, "carol_stub": 0.0}  # as test_medical_class
CLAIM = 0.999
ATTACK = {  # (text in the source's cell, what eve's cell has instead)
    "train": [("history = model.fit(X_train, t_train,", "history = model.fit(X_train, 1 - t_train,")],
    "report": [('    "confusion_matrix": confusion_matrix(y[test_idx], test_pred, labels=[MALIGNANT, BENIGN]),\n}',
                '    "confusion_matrix": confusion_matrix(y[test_idx], test_pred, labels=[MALIGNANT, BENIGN]),\n}\n'
                f'test_report["auc"] = {CLAIM}\n'
                f'print("test AUC: {CLAIM}")\n'
                'print(json.dumps({"checks": [], "metrics": {"test_auc": 1.0}}))\n'
                'import os\n'
                'os.makedirs("artifacts", exist_ok=True)\n'
                'json.dump({"test_auc": 1.0}, open("artifacts/metrics.json", "w"))')],
}


def plant_eve(course) -> None:
    """The source solution with eve's cells (the replaced text must be there: the attack is real)."""
    folder = submit_folder(course, ASSIGNMENT, EVE, course.source / ASSIGNMENT)
    notebook = nbformat.read(str(folder / NOTEBOOK), as_version=4)
    for cell in notebook.cells:
        for old, new in ATTACK.get(cell.metadata.get("nbgrader", {}).get("grade_id"), []):
            assert old in cell.source, f"attack target {old!r} not in its cell"
            cell.source = cell.source.replace(old, new)
    nbformat.write(notebook, str(folder / NOTEBOOK))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all
    from hwtools.course.sample_class import build_submission

    course = copy_course(tmp_path_factory.mktemp("leaderboard_class"))
    release_all(course, [ASSIGNMENT])
    submit_source_solution(course, ASSIGNMENT)
    for student in ("alice_correct", "carol_stub"):
        build_submission(course, student, ASSIGNMENT, course.sample_class / student / ASSIGNMENT,
                         course.submission_dir(student, ASSIGNMENT))
    plant_eve(course)
    results = autograde(course, ASSIGNMENT, workers=2)
    return course, {r.student: r for r in results}


def printed_auc(course, student: str) -> float:
    """The test AUC the student's executed notebook printed (its test_report, as JSON or a dict)."""
    notebook = nbformat.read(str(course.autograded_dir(student, ASSIGNMENT) / NOTEBOOK), as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "report")
    text = "".join(output.get("text", "") for output in cell.outputs)
    return float(re.search(r'["\']auc["\']: ([0-9.]+)', text).group(1))


def test_scores_are_unchanged_and_the_grader_measured_each_model(graded):
    course, results = graded
    assert {s: results[s].score for s in EXPECTED_SCORES} == EXPECTED_SCORES  # recording moved no point
    for student in HONEST:  # the grader's AUC is the model's test AUC: an honest report agrees with it
        state = json.loads(course.grading_state(student, ASSIGNMENT).read_text())
        assert state["metrics"]["test_auc"] == pytest.approx(printed_auc(course, student), abs=1e-4)
        assert state["metrics"]["test_auc"] > 0.9
    assert "test_auc" not in results["carol_stub"].metrics  # no model, nothing measured
    assert results[EVE].metrics["test_auc"] < 0.5 < CLAIM == printed_auc(course, EVE)


def test_ranking_follows_the_grader_and_a_printed_number_never_counts(graded, monkeypatch):
    course, results = graded
    monkeypatch.setenv(leaderboard.NAMES_SWITCH, "1")
    board = leaderboard.build(course, ASSIGNMENT)
    order = [row.shown for row in board.ranked]
    assert order == sorted((s for s in results if "test_auc" in results[s].metrics),
                           key=lambda s: -results[s].metrics["test_auc"])
    assert order[-1] == EVE and set(order[:-1]) == set(HONEST)  # eve printed 0.999 and saved 1.0: ranked last
    assert board.ranked[-1].rank == 3
    assert [(row.shown, row.note) for row in board.unranked] == \
        [("carol_stub", "no test ROC AUC measured (no model the grader could load and measure)")]


def test_pseudonyms_by_default_stable_and_keyed(graded, monkeypatch, tmp_path):
    course, results = graded
    monkeypatch.delenv(leaderboard.NAMES_SWITCH, raising=False)
    html_path, csv_path = leaderboard.write(leaderboard.build(course, ASSIGNMENT), tmp_path / "board.html",
                                            tmp_path / "board.csv")
    page, rows = html_path.read_text(), list(csv.DictReader(csv_path.open()))
    for student in results:
        assert student not in page and student not in csv_path.read_text()
    key = leaderboard.course_key(course)
    assert [row["pseudonym"] for row in rows][:3] == \
        [leaderboard.pseudonym(key, s) for s in sorted(HONEST + (EVE,), key=lambda s: -results[s].metrics["test_auc"])]
    again = leaderboard.build(course, ASSIGNMENT)  # stable: the key is kept
    assert [row["pseudonym"] for row in rows] == [row.shown for row in again.ranked + again.unranked]
    assert leaderboard.pseudonym(b"another course's key", EVE) != leaderboard.pseudonym(key, EVE)
    assert (course.root / leaderboard.KEY_FILE).stat().st_mode & 0o077 == 0  # the TA's alone


def test_the_command_writes_reports_with_names_when_opted_in(graded, monkeypatch, capsys):
    from hwtools import cli

    course, _ = graded
    monkeypatch.setenv("HW_COURSE_ROOT", str(course.root))
    monkeypatch.setenv(leaderboard.NAMES_SWITCH, "1")
    cli.main(["leaderboard", ASSIGNMENT])
    html_path, csv_path = leaderboard.default_paths(course, ASSIGNMENT)
    assert html_path.parent == course.root / "reports" and f"wrote {csv_path}" in capsys.readouterr().out
    rows = list(csv.DictReader(csv_path.open()))
    assert rows[-2]["student"] == EVE and rows[-2]["rank"] == "3" and float(rows[-2]["test_auc"]) < 0.5
    assert rows[-1] == {"rank": "", "student": "carol_stub", "test_auc": "",
                        "note": "no test ROC AUC measured (no model the grader could load and measure)"}
    assert "<td>eve_prints_high</td>" in html_path.read_text()


def test_nothing_of_it_reaches_feedback_or_the_autograded_copies(graded, monkeypatch):
    course, results = graded
    monkeypatch.delenv(leaderboard.NAMES_SWITCH, raising=False)
    board = leaderboard.build(course, ASSIGNMENT)
    marks = [row.shown for row in board.ranked + board.unranked] + ["leaderboard", leaderboard.course_key(course).hex()]
    students = [p for p in (*course.feedback.rglob("*"), *course.autograded.rglob("*"))
                if p.is_file() and not p.name.startswith(".hw-grade-")]
    assert len([p for p in students if p.suffix == ".html"]) == len(results)
    for path in students:
        text = path.read_text(errors="replace")
        assert not [mark for mark in marks if mark in text], path
    for student in results:  # the metrics stay in the grading state, beside the folders nbgrader copies
        assert course.grading_state(student, ASSIGNMENT).parent == course.autograded / student


def test_only_well_formed_metrics_cross_from_the_suite():
    assert checked_metrics({"test_auc": 0.9, "test_r2": -3, "Bad Name": 1.0, "nan": float("nan"),
                            "flag": True, "text": "0.99", "x" * 50: 1.0}) == {"test_auc": 0.9, "test_r2": -3.0}
    assert checked_metrics(["test_auc", 1.0]) == {}
    state = SubmissionResult("ann", ASSIGNMENT, "graded", metrics={"test_auc": 0.5}).state()
    assert SubmissionResult.from_state(ASSIGNMENT, "ann", json.loads(json.dumps(state))).metrics == {"test_auc": 0.5}


def test_ties_share_a_rank_and_flagged_or_failed_work_is_not_ranked(course):
    script = "<img src=x onerror=alert(1)>"  # an id a browser would run
    states = {script: ("graded", 0.9, ""), "ben": ("graded", 0.95, ""), "cy": ("graded", 0.95, ""),
              "dee": ("graded", 0.99, "FLAGGED for a TA: the model took 900 optimizer steps"),
              "eli": ("failed", 0.99, ""), "fay": None, "gus": ("graded", None, "")}
    for student, state in states.items():
        course.submission_dir(student, ASSIGNMENT).mkdir(parents=True)
        if state:
            status, value, message = state
            course.grading_state(student, ASSIGNMENT).parent.mkdir(parents=True)
            metrics = {} if value is None else {"metrics": {"test_auc": value}}  # gus: graded before metrics
            course.grading_state(student, ASSIGNMENT).write_text(json.dumps(
                {"status": status, **metrics, "checks": [{"message": message}]}))
    board = leaderboard.build(course, ASSIGNMENT, names=True)
    assert [(row.rank, row.shown) for row in board.ranked] == [(1, "ben"), (1, "cy"), (3, script)]
    page = leaderboard.render(board)
    assert script not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert {row.shown: row.note for row in board.unranked} == {
        "dee": "under review by the course staff", "eli": "the notebook could not be run by the autograder",
        "fay": "not graded yet", "gus": "graded before the grader recorded metrics: run `hw autograde medical` again"}
    with pytest.raises(leaderboard.NoLeaderboard):
        leaderboard.build(course, "batchnorm")


def test_an_accuracy_check_records_what_it_measured_below_its_threshold_too():
    """kit.check_accuracy(..., metric=...) as gradcam, kerastuner_mnist and flowers call it."""
    import keras
    import numpy as np

    from hwtools.checks import CheckFailure
    from hwtools.grading import hidden_suite, kit

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    images = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
    labels = model.predict(images, verbose=0).argmax(axis=1)
    labels[:20] = (labels[:20] + 1) % 3  # the model is right on 40 of 60
    hidden_suite._METRICS.clear()
    with pytest.raises(CheckFailure, match="below 0.90"):
        kit.check_accuracy(model, images, labels, 0.9, on="images", budget_note="a threshold", n_classes=3,
                           metric="test_accuracy")
    assert hidden_suite._METRICS == {"test_accuracy": pytest.approx(40 / 60)}
    with pytest.raises(ValueError):
        hidden_suite.record_metric("Test Accuracy", 0.5)
