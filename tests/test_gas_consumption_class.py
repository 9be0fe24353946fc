"""gas_consumption end to end through nbgrader in the ci budget: the source solution scores full
autograded points, the untouched release zero, and each sample student what the README says."""
import pytest

from conftest import grade_class

ASSIGNMENT = "gas_consumption"
# Autograded points out of 11 (+4 written points wait for a TA).
EXPECTED = {"reference_solution": 11.0, "alice_correct": 11.0,
            "bob_partial": 10.0, "carol_stub": 0.0, "dave_broken": 4.0}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_class(tmp_path_factory, ASSIGNMENT)


def feedback(course, student) -> str:
    return (course.feedback / student / ASSIGNMENT / "consumption.html").read_text()


def test_every_submission_gets_the_expected_score(graded):
    _, results = graded
    assert {s: r.score for s, r in results.items()} == EXPECTED
    assert all(r.max_score == 15 for r in results.values())


def test_the_untouched_release_scores_zero_for_the_fix_with_reasons(graded):
    course, results = graded
    for student in ("carol_stub",):
        assert results[student].status == "graded" and results[student].reason
        text = feedback(course, student)
        assert "NotImplementedError" in text and "artifacts/model.keras is missing" in text


def test_partial_and_broken_students_are_told_why(graded):
    course, results = graded
    assert "was not fitted on the 12264 training rows only" in feedback(course, "bob_partial")
    assert results["dave_broken"].status == "failed" and "kernel died" in results["dave_broken"].reason
    assert "Hidden tests hidden_windows: 3 / 3 points" in feedback(course, "dave_broken")
