"""Medical's feedback shows its confusion matrix as a picture, like the other assignments'
plots (issue 20, item 6): the notebook's own locked cell plots test_report["confusion_matrix"],
so the page nbgrader writes from the autograded notebook carries the image; grade cells and
their points stay as they were."""
from __future__ import annotations

import base64

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import REPO

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRADE_CELLS = {"public_split_and_scale": 0, "hidden_split": 2, "hidden_scaler": 2, "public_metrics": 0,
               "hidden_metrics": 4, "public_threshold": 0, "hidden_threshold": 2, "public_report": 0,
               "hidden_model": 4, "hidden_report": 2, "answer_sensitivity": 1, "answer_leakage": 2,
               "answer_threshold": 1}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from conftest import copy_course, submit_source_solution
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all

    course = copy_course(tmp_path_factory.mktemp("medical_feedback"))
    release_all(course, ["medical"])
    submit_source_solution(course, "medical")
    autograde(course, "medical", workers=1)
    return course


def cell_images(cell) -> list[bytes]:
    return [base64.b64decode(img["src"].split(",", 1)[1]) for img in cell.find_all("img")
            if img.get("src", "").startswith("data:image/png;base64,")]


def test_the_feedback_shows_the_confusion_matrix_as_a_picture(graded):
    page = BeautifulSoup((graded.feedback / "reference_solution" / "medical" / "medical.html").read_text(),
                         "html.parser")
    cells = [c for c in page.find_all(class_="code_cell")
             if "ConfusionMatrixDisplay(matrix" in c.find(class_="input").get_text()]
    assert len(cells) == 1, "no cell plots the confusion matrix"
    images = cell_images(cells[0])
    assert len(images) == 1 and images[0].startswith(PNG_MAGIC), "the confusion matrix is not a picture"
    # like the other plots of the notebook (the features' box plot, the ROC curve)
    assert len([c for c in page.find_all(class_="code_cell") if cell_images(c)]) >= 3


def test_the_plot_cell_is_locked_and_grade_cells_keep_their_points():
    for folder in ("source", "release"):
        notebook = nbformat.read(str(REPO / folder / "medical" / "medical.ipynb"), as_version=4)
        meta = {c.metadata.get("nbgrader", {}).get("grade_id"): c.metadata.get("nbgrader", {}) for c in notebook.cells}
        assert meta["plot_confusion_matrix"]["locked"] and not meta["plot_confusion_matrix"]["grade"]
        points = {name: m.get("points") for name, m in meta.items() if m.get("grade")}
        assert points == GRADE_CELLS, folder
