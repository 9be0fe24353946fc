"""The feedback summary's "first thing to fix" for hidden cells whose checks did not all run
(issue 20, item 6): FeedbackSummary, the GenerateFeedback step of nbgrader_config.py, on a
notebook whose hidden cells hold the reports hidden_runner.group_report really writes."""
from __future__ import annotations

import nbformat

from hwtools.course.feedback_page import FeedbackSummary
from hwtools.grading.hidden_runner import group_report


def grade_cell(grade_id: str, points: float, score: float, report: str):
    cell = nbformat.v4.new_code_cell(f"# Hidden tests ({points:g} points), run by the autograder: {grade_id}")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                                 "points": points, "score": score, "needs_manual_grade": False}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=report)]
    return cell


def check(description: str, points: float, passed: bool, message: str = "", grader_error: bool = False) -> dict:
    return {"description": description, "points": points, "earned": points if passed else 0.0, "passed": passed,
            "message": message, "grader_error": grader_error}


def summary(*cells) -> dict:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 1. The question"), *cells])
    _, resources = FeedbackSummary().preprocess(notebook, {})
    return resources["hw_feedback"]


def test_checks_that_did_not_run_are_the_thing_to_fix_with_the_reason():
    report = group_report("hidden_model", {"earned": 0.0, "points": 0.0, "checks": []}, 3,
                          status="the hidden suite timed out after 600 s")
    fix = summary(grade_cell("hidden_model", 3, 0, report))["first_fix"]
    assert fix["anchor"] == "hidden_model" and fix["question"] == "1. The question"
    assert fix["message"] == "3 points of checks did not run: the hidden suite timed out after 600 s"


def test_a_check_the_grader_could_not_run_is_not_the_students_to_fix():
    broken = group_report("hidden_a", {"earned": 0.0, "points": 2.0,
                                       "checks": [check("the reference model", 2, False, grader_error=True)]}, 2)
    failed = group_report("hidden_b", {"earned": 0.0, "points": 1.0,
                                       "checks": [check("shape of out", 1, False, "expected (2, 3), got (3, 2)")]}, 1)
    result = summary(grade_cell("hidden_a", 2, 0, broken), grade_cell("hidden_b", 1, 0, failed))
    assert result["first_fix"]["anchor"] == "hidden_b"
    assert result["first_fix"]["message"] == "shape of out (0/1): expected (2, 3), got (3, 2)"
    assert summary(grade_cell("hidden_a", 2, 0, broken))["first_fix"] is None
