"""End to end through nbgrader: the source solution scores full autograded points, the
untouched release zero, and the sample students what their mistakes cost."""
import pytest

from conftest import grade_class

ASSIGNMENT = "gradcam"
AUTOGRADED = 20.0
MANUAL = 2.0
# bob_partial: valid padding in the first convolution (1 point) and gradients averaged over
# channels (6 of the 7 Grad-CAM points, and his saved heatmaps are not Grad-CAM: 1 point).
# dave_broken: build_model crashes (no channel axis), so nothing is trained or saved: he keeps
# the data functions (3) and his Grad-CAM, graded on the grader's own model (7).
EXPECTED = {"reference_solution": AUTOGRADED, "alice_correct": AUTOGRADED,
            "bob_partial": 12.0, "carol_stub": 0.0, "dave_broken": 10.0}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    return grade_class(tmp_path_factory, ASSIGNMENT, cell_timeout=60)


@pytest.fixture(scope="module")
def graded(graded_class):
    return graded_class[1]


def test_every_submission_gets_the_expected_score(graded):
    scores = {s: r.score for s, r in graded.items()}
    assert scores == EXPECTED, {s: [c.id for c in r.checks if not c.passed] for s, r in graded.items()}
    assert all(r.max_score == AUTOGRADED + MANUAL for r in graded.values())


def test_written_analysis_waits_for_a_ta(graded):
    assert graded["reference_solution"].manual_pending == MANUAL
    assert graded["alice_correct"].manual_pending == MANUAL


def failed(result) -> set:
    return {c.id for c in result.checks if not c.passed}


def test_points_are_lost_where_the_mistakes_are(graded):
    assert failed(graded["bob_partial"]) == {
        "test_convolutions", "test_predicted_class_matches_reference", "test_given_class_matches_reference",
        "test_named_layer_is_used", "test_saved_heatmaps_are_gradcam_of_saved_model"}
    dave = graded["dave_broken"]
    assert "gradcam_model.keras was not saved" in " ".join(c.message for c in dave.checks)
    assert {c.group for c in dave.checks if c.passed} == {"hidden_data", "hidden_gradcam"}


def test_zeros_come_with_reasons(graded):
    for student in ("carol_stub",):
        assert "gradcam_model.keras was not saved" in graded[student].reason
        assert "NotImplementedError" in " ".join(c.message for c in graded[student].checks)


def test_feedback_of_a_partly_wrong_submission_teaches(graded_class, repo):
    """Bob's feedback page: his figures, each failed check's message, and no hidden code."""
    from test_release import hidden_code_lines

    course, _ = graded_class
    page = (course.feedback / "bob_partial" / ASSIGNMENT / "gradcam.html").read_text()
    assert page.count("data:image/png;base64,") >= 2  # the first training images and the overlays
    assert "Hidden tests hidden_gradcam: 1 / 7 points" in page
    assert "[FAIL]" in page and "[PASS]" in page
    assert not [line for line in hidden_code_lines(repo) if line in page]
    assert "BEGIN HIDDEN TESTS" not in page and "hidden_suite = " not in page
