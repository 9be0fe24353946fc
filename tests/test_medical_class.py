"""End to end for the medical assignment: release, then autograde through nbgrader the source
solution and the sample students (carol_stub is the untouched release) (ci budget), and read the scores,
the reasons and the feedback."""
import pytest

from conftest import grade_class

# Autograded points (the 4 points of written answers wait for a TA).
EXPECTED = {"reference_solution": 16.0, "alice_correct": 16.0,
            "bob_partial": 12.0, "carol_stub": 0.0, "dave_broken": 4.0}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_class(tmp_path_factory, "medical")


def feedback_text(course, student) -> str:
    return (course.feedback / student / "medical" / "medical.html").read_text()


def failed_checks(result) -> set:
    return {c.id for c in result.checks if not c.passed}


def test_every_submission_gets_the_expected_score(graded):
    _, results = graded
    assert {s: r.score for s, r in results.items()} == EXPECTED
    assert all(r.max_score == 20 for r in results.values())
    assert all(r.status == "graded" for r in results.values())


def test_the_partial_submission_loses_exactly_its_leaks(graded):
    course, results = graded
    assert failed_checks(results["bob_partial"]) == {"test_scaler_statistics_are_the_training_rows",
                                                     "test_threshold_is_chosen_on_validation"}
    bob = feedback_text(course, "bob_partial")
    assert "Hidden tests hidden_scaler: 0 / 2 points" in bob and "ALL rows" in bob
    assert "never on the test part" in bob


def test_zero_and_crash_come_with_reasons(graded):
    course, results = graded
    for student in ("carol_stub",):
        assert "NotImplementedError" in results[student].reason or "missing" in results[student].reason
    assert failed_checks(results["dave_broken"]) >= {"test_test_auc", "test_split_is_stratified"}
    assert "artifacts/split.npz is missing" in feedback_text(course, "dave_broken")

