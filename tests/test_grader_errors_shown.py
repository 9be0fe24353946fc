"""A grader error (an exception of the grader's own code or reference, issue 19 item 3) is
listed for the TA in the `hw autograde` summary and in `hw report`, kept apart from the checks
students failed, and is never given as the reason a student scored zero."""
from __future__ import annotations

import json

from hwtools.checks import GRADER_ERROR_MESSAGE
from hwtools.grading.results import CheckResult, SubmissionResult

DETAIL = "RuntimeError: TensorAccessor expected 1 dims but tensor has 2 (test_batchnorm_forward.py:88)"


def _checks(grader_error: bool) -> list[CheckResult]:
    crashed = CheckResult("test_reference", "hidden_test_mode", 2.0, 0.0, False, "test mode against torch",
                          GRADER_ERROR_MESSAGE if grader_error else "expected 1, got 2",
                          grader_error=grader_error, grader_detail=DETAIL if grader_error else "")
    failed = CheckResult("test_shape", "hidden_contract", 1.0, 0.0, False, "out has the shape of x",
                         "contract: out must have shape (4, 3); got shape (3, 4)")
    return [crashed, failed]


def test_the_summary_lists_grader_errors_apart():
    from hwtools.course.autograde import summary_table

    rows = [SubmissionResult("ann", "batchnorm", "graded", "", 0.0, 17.0, checks=_checks(True)),
            SubmissionResult("ben", "batchnorm", "graded", "", 0.0, 17.0, checks=_checks(False))]
    text = summary_table(rows)
    errors = text.split("grader errors", 1)[1]
    assert "ann" in errors and "test_reference" in errors and "TensorAccessor" in errors, text
    assert "ben" not in errors and "test_shape" not in errors, text


def test_a_grader_error_is_never_the_reason_for_a_zero():
    from hwtools.grading.grade import _zero_reason

    checks = [{"message": GRADER_ERROR_MESSAGE, "passed": False, "grader_error": True}] * 3 + \
        [{"message": "contract: out must have shape (4, 3)", "passed": False}]
    assert _zero_reason(0.0, checks) == "contract: out must have shape (4, 3)"
    assert _zero_reason(0.0, checks[:3]) == ""


def test_the_report_lists_grader_errors_apart(course, tmp_path, monkeypatch):
    from hwtools.course import report
    from hwtools.course.export import Scores

    states = {"ann": SubmissionResult("ann", "batchnorm", "graded", "", 0.0, 17.0, checks=_checks(True)),
              "ben": SubmissionResult("ben", "batchnorm", "graded", "", 0.0, 17.0, checks=_checks(False))}
    monkeypatch.setattr(report, "gradebook_scores", lambda course, assignment: {
        s: Scores(0.0, 17.0, 0.0) for s in states} if assignment == "batchnorm" else {})
    monkeypatch.setattr(report, "recorded_state", lambda course, assignment, student: json.loads(json.dumps(
        states[student].state())))
    page = report.write_class_report(course, tmp_path / "report.html", ["batchnorm"]).read_text()
    section = page.split("Grader errors", 1)[1]
    assert "ann" in section and "TensorAccessor" in section and "test mode against torch" in section
    table = page.split("<table>", 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split("<tr>") if "test mode against torch" in r)
    assert "1 / 1" in row and GRADER_ERROR_MESSAGE not in row  # ben failed it; ann's was not checked
