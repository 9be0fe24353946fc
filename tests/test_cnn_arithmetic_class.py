"""End to end through nbgrader: the source solution scores full autograded points, the
untouched release zero, and the sample students what their mistakes cost."""
import pytest

from conftest import grade_class

ASSIGNMENT = "cnn_arithmetic"
AUTOGRADED = 25.0
MANUAL = 5.0
# bob_partial keeps pool_output_size, same_padding, the dilation-8 answers, seed 001 Q3,
# AlexNet and conv2d_valid (8 points); rounding up, the missing bias, the key's table, the
# gradient of the sum, 280 for 10 -> 20 + BN, VGG16 with a pooling layer's parameters and an
# unwritten receptive field cost the rest.
EXPECTED = {"reference_solution": AUTOGRADED, "alice_correct": AUTOGRADED,
            "bob_partial": 8.0, "carol_stub": 0.0, "dave_broken": 0.0}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    return grade_class(tmp_path_factory, ASSIGNMENT, cell_timeout=30)


@pytest.fixture(scope="module")
def graded(graded_class):
    return graded_class[1]


def test_every_submission_gets_the_expected_score(graded):
    assert {s: r.score for s, r in graded.items()} == EXPECTED
    assert all(r.max_score == AUTOGRADED + MANUAL for r in graded.values())


def test_written_answers_wait_for_a_ta(graded):
    assert graded["reference_solution"].manual_pending == MANUAL
    assert graded["alice_correct"].manual_pending == MANUAL


def test_zeros_come_with_reasons(graded):
    assert "NotImplementedError" in graded["carol_stub"].reason
    assert "NotImplementedError" in graded["carol_stub"].reason
    dave_messages = " ".join(c.message for c in graded["dave_broken"].checks)
    assert "RuntimeError: I will do this later" in dave_messages
    assert "ZeroDivisionError" in dave_messages


def test_each_student_sees_their_own_numbers(graded_class):
    """The grader runs each notebook with the student's id (HW_STUDENT_ID), so the executed
    notebook shows that student's network, and the sample students answered for theirs."""
    from hwtools import variants
    from hwtools.assignments.cnn_arithmetic import layer_text

    for student in ("reference_solution", "alice_correct", "bob_partial"):
        course = graded_class[0]
        executed = (course.autograded_dir(student, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb").read_text()
        assert f"those of student '{student}'" in executed, student
        layers = variants.for_student(ASSIGNMENT, student)["q5"]["layers"]
        assert all(layer_text(layer) in executed for layer in layers), student
