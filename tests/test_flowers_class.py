"""flowers end to end through nbgrader in the ci budget: the source solution scores full
autograded points, the untouched release zero (two submissions only: each execution pays the
TensorFlow import and MobileNetV2's graph building)."""
import pytest

from conftest import copy_course, submit_release, submit_source_solution
from hwtools.course.autograde import autograde
from hwtools.course.release import release_all

ASSIGNMENT = "flowers"
AUTOGRADED = 10.0
MANUAL = 4.0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("flowers_course"))
    release_all(course, [ASSIGNMENT])
    submit_source_solution(course, ASSIGNMENT)
    submit_release(course, ASSIGNMENT)
    results = autograde(course, ASSIGNMENT, ["reference_solution", "untouched_release"], workers=2)
    return course, {r.student: r for r in results}


def test_source_scores_full_and_release_zero(graded):
    _, results = graded
    assert {s: r.score for s, r in results.items()} == {"reference_solution": AUTOGRADED, "untouched_release": 0.0}
    assert all(r.max_score == AUTOGRADED + MANUAL for r in results.values())
    assert results["reference_solution"].manual_pending == MANUAL


def test_the_untouched_release_is_told_why(graded):
    course, results = graded
    assert "NotImplementedError" in results["untouched_release"].reason
    feedback = (course.feedback / "untouched_release" / ASSIGNMENT / "flowers.html").read_text()
    assert "artifacts/model.keras is missing" in feedback
