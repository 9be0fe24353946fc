"""End to end through nbgrader: the source solution scores full autograded points, the
untouched release zero, and bob_partial (a search space over the seed's limits) less."""
import pytest

from conftest import copy_course, submit_release, submit_source_solution
from hwtools.course.autograde import autograde
from hwtools.course.release import release_all
from hwtools.course.sample_class import build_submission

ASSIGNMENT = "kerastuner_mnist"
AUTOGRADED = 16.0
MANUAL = 7.0
BONUS = 2.0  # answer_regularisation, the seed's bonus: extra credit, not in the maximum
# bob_partial: conv_layers up to 6 and a learning rate up to 0.01 (the ranges and the
# corner models break the limits: 2 points), an Adam/SGD choice that is allowed; his search
# and best model are graded on what his notebook saved.
STUDENTS = ["reference_solution", "untouched_release", "bob_partial"]
BOB_MUST_FAIL = {"test_ranges_within_limits", "test_corner_models_within_limits"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HW_CELL_TIMEOUT", "120")
        course = copy_course(tmp_path_factory.mktemp("kerastuner_mnist_class"))
        release_all(course, [ASSIGNMENT])
        submit_source_solution(course, ASSIGNMENT)
        submit_release(course, ASSIGNMENT)
        build_submission(course, "bob_partial", ASSIGNMENT, course.sample_class / "bob_partial" / ASSIGNMENT,
                         course.submission_dir("bob_partial", ASSIGNMENT))
        results = autograde(course, ASSIGNMENT, STUDENTS, workers=2)
    return {r.student: r for r in results}


def failed(result) -> set:
    return {c.id for c in result.checks if not c.passed}


def test_the_reference_scores_full_and_the_release_zero(graded):
    assert graded["reference_solution"].score == AUTOGRADED, failed(graded["reference_solution"])
    assert graded["untouched_release"].score == 0.0
    assert all(r.max_score == AUTOGRADED + MANUAL for r in graded.values())
    assert graded["reference_solution"].manual_pending == MANUAL + BONUS


def test_a_space_over_the_limits_loses_those_points(graded):
    bob = graded["bob_partial"]
    assert BOB_MUST_FAIL <= failed(bob)
    assert bob.score <= AUTOGRADED - 2


def test_zeros_come_with_reasons(graded):
    messages = " ".join(c.message for c in graded["untouched_release"].checks)
    assert "NotImplementedError" in messages
    assert "kerastuner_best_model.keras was not saved" in messages
