"""Contracts every assignment keeps, checked for all of them at once: its hidden cells and its
hidden suite agree on the points, and its budget covers every mode."""
import nbformat
import pytest

from conftest import REPO
from hwtools import budget
from hwtools.course import Course
from hwtools.grading.hidden_runner import collected_checks, group_totals

ASSIGNMENTS = Course(REPO).assignments()


def hidden_cells(course, assignment) -> dict:
    cells = {}
    for path in sorted((course.source / assignment).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id", "").startswith("hidden_"):
                cells[meta["grade_id"]] = meta["points"]
    return cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_cells_and_suite_agree_on_points(repo, assignment):
    cells = hidden_cells(repo, assignment)
    assert cells, f"{assignment} has no hidden grade cells"
    totals = group_totals([dict(c, earned=0) for c in collected_checks(repo, assignment)])
    assert {group: total["points"] for group, total in totals.items()} == cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_budget_covers_every_mode(assignment):
    for mode in budget.MODES:
        assert budget.budget(assignment, mode) is not None
