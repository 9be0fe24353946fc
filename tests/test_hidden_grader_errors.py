"""Grader errors are never the student's fault (issue 19, item 3): an exception raised by the
grader's own code or reference, not by a rule the work breaks nor by the student's code, is
recorded as a grader error, earns nothing, reads "the grader could not check this; your TA has
been told" in the student's feedback instead of FAIL, and is listed for the TA by
``hidden_runner.grader_errors``.

A suite is planted in a copy of the course: its checks fail in each of the ways a check can
fail, on a submission whose function is correct for some calls and raises for others."""
import textwrap

from hwtools.checks import GRADER_ERROR_MESSAGE
from hwtools.grading import hidden_runner

PLANTED_SUITE = '''
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hwtools.checks import CheckFailure, assert_close


@pytest.fixture(scope="module")
def mod(student):
    return student("work.py")


@pytest.fixture(scope="module")
def broken_reference():
    return {}["the grader's fixture has a bug"]


@pytest.fixture(scope="module")
def saved_statistics():
    from hwtools.grading import kit

    return kit.returned_array(np.zeros((1, 3)), "artifacts/statistics", shape=(3,))


@pytest.mark.points(2, group="hidden_planted")
def test_reference_crashes(mod):
    """test mode with running statistics of shape (1, D): compared with the torch reference"""
    out = mod.call("normalise", np.ones((5, 3))).value
    stats = np.zeros((1, 3))
    # the grader's own reference crashes (a TensorAccessor RuntimeError), not the student's code
    expected = F.batch_norm(torch.from_numpy(out), torch.from_numpy(stats), torch.from_numpy(stats + 1),
                            training=False).numpy()
    assert_close(out, expected)


@pytest.mark.points(1, group="hidden_planted")
def test_fixture_of_the_grader_crashes(broken_reference):
    """a check whose grader-side fixture has a bug"""


@pytest.mark.points(1, group="hidden_planted")
def test_student_value_is_wrong(mod):
    """normalise: returns x unchanged for a batch of ones"""
    assert_close(mod.call("normalise", np.ones((2, 2))).value, np.full((2, 2), 7.0), name="out")


@pytest.mark.points(1, group="hidden_planted")
def test_student_code_raises(mod):
    """normalise raises nothing on an empty batch"""
    mod.call("normalise", np.ones((0, 2)))


@pytest.mark.points(1, group="hidden_planted")
def test_needs_a_value_that_broke_its_contract(saved_statistics):
    """the saved statistics are used by the model"""


@pytest.mark.points(1, group="hidden_planted")
def test_passes(mod):
    """normalise keeps the shape"""
    if mod.call("normalise", np.ones((4, 2))).value.shape != (4, 2):
        raise CheckFailure("shape changed")
'''

WORK = '''
import numpy as np


def normalise(x):
    if len(x) == 0:
        raise ZeroDivisionError("an empty batch")
    return np.asarray(x, dtype=float)
'''


def planted_result(course, tmp_path):
    suite = course.hidden_tests / "planted"
    suite.mkdir(parents=True)
    (suite / "test_planted.py").write_text(textwrap.dedent(PLANTED_SUITE))
    files = tmp_path / "submission"
    files.mkdir()
    (files / "work.py").write_text(WORK)
    result = hidden_runner.run_hidden_suite(course, "planted", files, timeout_s=300)
    assert result["status"] == "ok", result
    return result, {c["id"]: c for c in result["checks"]}


def test_a_planted_grader_error_is_reported_as_one(course, tmp_path):
    result, checks = planted_result(course, tmp_path)

    # the check dict: a grader error, no points, the student's message, the TA's detail
    crashed = checks["test_reference_crashes"]
    assert crashed["grader_error"] is True and crashed["passed"] is False and crashed["earned"] == 0
    assert crashed["message"] == GRADER_ERROR_MESSAGE
    assert "RuntimeError" in crashed["grader_detail"] and "test_planted.py" in crashed["grader_detail"]
    fixture = checks["test_fixture_of_the_grader_crashes"]
    assert fixture["grader_error"] is True and "KeyError" in fixture["grader_detail"]

    # the student's own failures stay failures: a broken rule and an exception of their code
    assert not checks["test_student_value_is_wrong"].get("grader_error")
    assert "expected 7, got 1" in checks["test_student_value_is_wrong"]["message"]
    raised = checks["test_student_code_raises"]
    assert not raised.get("grader_error") and raised["message"].startswith("your code:")
    assert "ZeroDivisionError" in raised["message"] or "an empty batch" in raised["message"]
    assert checks["test_passes"]["passed"]
    # a check that needs a value which broke its contract says it could not run, and why
    blocked = checks["test_needs_a_value_that_broke_its_contract"]
    assert not blocked.get("grader_error")
    assert blocked["message"] == ("not run: contract: artifacts/statistics must have shape (3,); "
                                  "got shape (1, 3)")

    # the feedback line: neither PASS nor FAIL, and nothing of the grader's traceback
    total = hidden_runner.group_totals(result["checks"])["hidden_planted"]
    report = hidden_runner.group_report("hidden_planted", total, 7)
    line = next(l for l in report.splitlines() if "compared with the torch reference" in l)
    assert GRADER_ERROR_MESSAGE in line and "FAIL" not in line and "PASS" not in line
    assert "TensorAccessor" not in report and "RuntimeError" not in report and "KeyError" not in report
    assert "[FAIL] normalise: returns x unchanged" in report
    assert report.splitlines()[0] == "Hidden tests hidden_planted: 1 / 7 points"

    # the TA's list: one line per grader error, none for the student's failures
    lines = hidden_runner.grader_errors(result["checks"])
    assert len(lines) == 2
    assert lines[0].startswith("test_reference_crashes (hidden_planted, 2 points not awarded): RuntimeError")
    assert "TensorAccessor" in lines[0] or "dims" in lines[0]
    assert lines[1].startswith("test_fixture_of_the_grader_crashes (hidden_planted, 1 points not awarded): KeyError")
