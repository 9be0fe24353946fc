"""Bonus questions stay bonus (issue 23): where the seed marks a question "نمره امتیازی", its
answer cell is a manually graded cell worth 0 nbgrader points (authoring.bonus_answer), so the
assignment's maximum is that of its other questions; the TA gives what the answer earns as
nbgrader extra credit, which the score includes. A bonus answered right lifts the total above
the non-bonus part, the maximum unchanged; an unanswered bonus costs nothing."""
from __future__ import annotations

import nbformat
import pytest

from conftest import REPO, copy_course
from hwtools.course.authoring import bonus_points
from hwtools.course.feedback_page import FeedbackSummary
from hwtools.grading.results import CellGrade, SubmissionResult

# the seed's bonus questions: 000 "dropout and pooling" (kerastuner_mnist), "eps in batch norm" (batchnorm)
BONUS = {("batchnorm", "answer_eps"): 1.0, ("kerastuner_mnist", "answer_regularisation"): 2.0}


def notebook(folder: str, assignment: str):
    [path] = sorted((REPO / folder / assignment).glob("*.ipynb"))
    return nbformat.read(str(path), as_version=4)


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


@pytest.mark.parametrize("folder", ["source", "release"])
def test_the_seeds_bonus_questions_are_bonus_cells_that_say_so(folder):
    found = {}
    for path in sorted((REPO / folder).glob("*/*.ipynb")):
        cells = nbformat.read(str(path), as_version=4).cells
        for index, cell in enumerate(cells):
            if bonus_points(cell) is not None:
                found[(path.parent.name, grade_id(cell))] = bonus_points(cell)
                meta = cell.metadata.nbgrader
                assert (cell.cell_type, meta["grade"], meta["solution"], meta["points"]) == ("markdown", True, True, 0)
                question = cells[index - 1].source  # the question above, in both languages
                assert "**bonus**" in question and "امتیازی" in question, question
                assert f"up to {bonus_points(cell):g} extra point" in question
            elif cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade"):
                assert cell.metadata.nbgrader["points"] > 0, f"{path.name} {grade_id(cell)}: 0 points but no bonus"
    assert found == BONUS


def result(student: str, eps_answered: bool) -> SubmissionResult:
    """What the autograder records for batchnorm: every hidden check passed, the written answer
    (b) waits for a TA, the bonus (a) too if answered (nbgrader scores an unanswered one 0)."""
    import nbformat as nbf

    cells = notebook("source", "batchnorm").cells
    grades = []
    for cell in cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or grade_id(cell).startswith("public_"):
            continue
        points = float(meta["points"])
        if cell.cell_type == "markdown":
            answered = eps_answered or grade_id(cell) != "answer_eps"
            grades.append(CellGrade("batchnorm", grade_id(cell), None if answered else 0.0, answered, points))
        else:
            grades.append(CellGrade("batchnorm", grade_id(cell), points, False, points))
    hidden = sum(g.max_score for g in grades if g.name.startswith("hidden_"))
    release = nbformat.read(str(REPO / "release" / "batchnorm" / "batchnorm.ipynb"), as_version=4)
    return SubmissionResult(student, "batchnorm", "graded", score=hidden, max_score=16.0, grades=grades,
                            files={"batchnorm.ipynb": nbf.writes(release).encode()})


def formgrader_put(grade, manual_score, extra_credit) -> None:
    """What nbgrader's formgrader stores when a TA leaves a grade's boxes (GradeHandler.put)."""
    grade.manual_score, grade.extra_credit = manual_score, extra_credit
    grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from hwtools.course.release import release_all

    course = copy_course(tmp_path_factory.mktemp("bonus"))
    release_all(course, ["batchnorm"])
    return course


def test_a_bonus_answered_right_raises_the_score_above_the_rest_and_not_the_maximum(course):
    from hwtools.course import gradebook_writer
    from hwtools.course.export import gradebook_scores

    with gradebook_writer.open_gradebook(course) as gb:
        assert gb.find_assignment("batchnorm").max_score == 16.0  # 15 hidden + (b); (a) is the bonus
        for student, answered in (("answered_bonus", True), ("skipped_bonus", False)):
            gradebook_writer.record_result(course, result(student, answered), gb)
            formgrader_put(gb.find_grade("answer_batch_of_one", "batchnorm", "batchnorm", student), 1.0, None)
        gb.db.commit()
        assert gb.find_grade("answer_eps", "batchnorm", "batchnorm", "answered_bonus").needs_manual_grade
    # the TA sees the answered bonus among the points to grade (its bonus point), not the skipped one
    scores = gradebook_scores(course, "batchnorm")
    assert {s: (sc.score, sc.max_score, sc.pending) for s, sc in scores.items()} == \
        {"answered_bonus": (16.0, 16.0, 1.0), "skipped_bonus": (16.0, 16.0, 0.0)}
    with gradebook_writer.open_gradebook(course) as gb:
        # the TA types 1 in the extra-credit box and leaves the score box empty
        formgrader_put(gb.find_grade("answer_eps", "batchnorm", "batchnorm", "answered_bonus"), None, 1.0)
        gb.db.commit()
    for regrade in (False, True):  # a regrade (hw autograde --force) keeps the TA's bonus, graded
        if regrade:
            with gradebook_writer.open_gradebook(course) as gb:
                gradebook_writer.record_result(course, result("answered_bonus", True), gb)
        scores = gradebook_scores(course, "batchnorm")
        assert (scores["answered_bonus"].score, scores["answered_bonus"].max_score) == (17.0, 16.0), regrade
        assert (scores["skipped_bonus"].score, scores["skipped_bonus"].max_score) == (16.0, 16.0)
        assert scores["answered_bonus"].pending == scores["skipped_bonus"].pending == 0, regrade


def summary_of(eps_score, eps_pending):
    """The feedback page's summary of batchnorm, the scores set as nbgrader's GetGrades sets them."""
    nb = notebook("release", "batchnorm")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["score"] = eps_score if grade_id(cell) == "answer_eps" else meta["points"]
            meta["needs_manual_grade"] = eps_pending and grade_id(cell) == "answer_eps"
    _, resources = FeedbackSummary()(nb, {})
    return resources["hw_feedback"]


@pytest.mark.parametrize("eps_score, pending, check, question", [
    (1.0, False, "+1 (bonus)", "2 / 2; +1 bonus"),
    (0.0, False, "0 (bonus)", "2 / 2"),
    (0.0, True, "bonus, not graded yet", "2 / 2; bonus not graded yet"),
])
def test_the_feedback_page_says_bonus(eps_score, pending, check, question):
    feedback = summary_of(eps_score, pending)
    assert feedback["cells"]["answer_eps"]["score"] == check
    [entry] = [q for q in feedback["questions"] if "answer_eps" in q["checks"]]
    assert entry["shown"] == question
    assert feedback["max_score"] == 16.0 and feedback["score"] == 16.0 + eps_score and not feedback["pending"]


def test_the_class_report_counts_the_bonus_and_charts_every_student(course, tmp_path):
    from hwtools.course.report import assignment_summary, histogram_range, write_class_report

    from hwtools.course import gradebook_writer

    with gradebook_writer.open_gradebook(course) as gb:  # a student of its own: full marks and the bonus
        gradebook_writer.record_result(course, result("report_bonus", True), gb)
        formgrader_put(gb.find_grade("answer_batch_of_one", "batchnorm", "batchnorm", "report_bonus"), 1.0, None)
        formgrader_put(gb.find_grade("answer_eps", "batchnorm", "batchnorm", "report_bonus"), None, 1.0)
        gb.db.commit()
    summary = assignment_summary(course, "batchnorm")
    assert (summary["scores"]["report_bonus"], summary["max_score"]) == (17.0, 16.0)
    low, top = histogram_range(list(summary["scores"].values()), summary["max_score"])
    assert low <= min(summary["scores"].values()) and top >= 17.0  # on the chart, not cut off at the maximum
    page = write_class_report(course, tmp_path / "summary.html", ["batchnorm"]).read_text()
    assert "of 16 points (the gradebook's scores, written answers graded by TAs and bonus points included)" in page
