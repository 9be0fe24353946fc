"""End to end through nbgrader: the theory notebook's source solution scores full autograded
points, the untouched release zero, and the sample students what their mistakes cost."""
import pytest

from conftest import grade_class

ASSIGNMENT = "theory"
AUTOGRADED = 20.0
MANUAL = 8.0
# bob_partial counts one bias vector in the RNN and the LSTM (Keras's convention, -2), flips
# the kernel (-2), uses torchvision's 3x3 kernels in the 5x5 branch (-4) and believes batch
# norm makes a batch faster (-1).
EXPECTED = {"reference_solution": AUTOGRADED, "alice_correct": AUTOGRADED,
            "bob_partial": 11.0, "carol_stub": 0.0, "dave_broken": 0.0}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_class(tmp_path_factory, ASSIGNMENT, cell_timeout=30)[1]


def test_every_submission_gets_the_expected_score(graded):
    assert {s: r.score for s, r in graded.items()} == EXPECTED
    assert all(r.max_score == AUTOGRADED + MANUAL for r in graded.values())


def test_written_answers_wait_for_a_ta(graded):
    assert graded["reference_solution"].manual_pending == MANUAL
    assert graded["alice_correct"].manual_pending == MANUAL


def test_zeros_come_with_reasons(graded):
    assert "NotImplementedError" in graded["carol_stub"].reason
    dave_messages = " ".join(c.message for c in graded["dave_broken"].checks)
    assert "RuntimeError: I will do this later" in dave_messages and "ZeroDivisionError" in dave_messages
