"""Feedback pages: nbgrader's own for a recorded submission, and where nbgrader gives none (a
refused id, a submission never recorded, nbgrader failing) a page of the autograder's own at
the same path, saying why and with each grade cell's score, everything HTML-escaped."""
from __future__ import annotations

import html
import os
from pathlib import Path

from hwtools.course import gradebook_writer, nbgrader_bridge
from hwtools.course import Course, id_usable_in_paths, shown_id, student_id_problem
from hwtools.course.sanitize import terminal_safe
from hwtools.grading.results import CellGrade, SubmissionResult


def feedback_page(root: str, assignment: str, student: str) -> str:
    """Write one submission's feedback pages with nbgrader (on a worker, once its grade is
    recorded: the gradebook is only read here); where nbgrader cannot, a page of the
    autograder's own at the same path. '' when nbgrader wrote every page, else a line saying
    what happened."""
    course = Course(Path(root))
    try:
        result = nbgrader_bridge.api(course.root).generate_feedback(assignment, student, force=True)
        error = "" if result.get("success") else _last_log_line(result.get("error") or result.get("log") or "failed")
    except Exception as err:
        error = f"{type(err).__name__}: {err}"[:300]
    missing = [p for p in _feedback_paths(course, assignment, student) if not p.is_file()]
    if not error and not missing:
        return ""
    state = gradebook_writer.recorded_state(course, assignment, student)
    row = SubmissionResult.from_state(assignment, student, state) if state else \
        SubmissionResult(student, assignment, "not graded", score=None, max_score=None)
    written = write_own_feedback(course, assignment, student, row, scores_from_gradebook=True)
    why = error or "nbgrader wrote no page for " + ", ".join(p.name for p in missing)
    return f"nbgrader could not write the feedback page ({why}); {written}"


def _last_log_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "failed")[:300]


def _feedback_paths(course: Course, assignment: str, student: str) -> list[Path]:
    """feedback/<student>/<assignment>/<notebook>.html for each notebook of the release."""
    names = sorted(p.stem for p in (course.release / assignment).glob("*.ipynb")) or [assignment]
    return [course.feedback_dir(student, assignment) / f"{name}.html" for name in names]


def _cell_scores(course: Course, assignment: str, student: str, grades: list[CellGrade] | None) -> dict:
    """notebook -> [(cell, score or None, max, needs manual grade)] for the page: the gradebook's
    (manual scores included) where the submission is recorded, else the result's, else the
    released cells unscored."""
    from nbgrader.api import MissingEntry

    cells: dict[str, list] = {}
    try:
        with gradebook_writer.open_gradebook(course) as gb:
            for notebook in gb.find_assignment(assignment).notebooks:
                rows = cells.setdefault(notebook.name, [])
                for cell in sorted(notebook.grade_cells, key=lambda c: c.name):
                    score, manual = None, False
                    if grades is None:
                        try:
                            grade = gb.find_grade(cell.name, notebook.name, assignment, student)
                            score, manual = grade.score, bool(grade.needs_manual_grade)
                        except MissingEntry:
                            pass
                    else:
                        match = [g for g in grades if g.name == cell.name and g.notebook == notebook.name]
                        if match:
                            score, manual = match[0].auto_score, bool(match[0].needs_manual_grade)
                    rows.append((cell.name, score, float(cell.max_score), manual))
    except Exception:
        pass
    return cells


def write_own_feedback(course: Course, assignment: str, student: str, row: SubmissionResult,
                       scores_from_gradebook: bool = False) -> str:
    """The autograder's own feedback page at nbgrader's path, for a submission nbgrader gives
    none (refused, never recorded, or nbgrader failed): the status, the reason and the score of
    each grade cell (ROW's, or the gradebook's, manual scores included), everything
    HTML-escaped. Returns a line saying where it was written."""
    if not id_usable_in_paths(student):
        return "no feedback page: the id cannot name a folder"
    scores = _cell_scores(course, assignment, student, None if scores_from_gradebook else row.grades)
    written = []
    for path in _feedback_paths(course, assignment, student):
        _write_page(path, _own_page(assignment, student, path.stem, row, scores.get(path.stem, [])))
        written.append(str(path.relative_to(course.root)))
    return "wrote the autograder's own page " + ", ".join(written)


def _own_page(assignment: str, student: str, notebook: str, row: SubmissionResult, cells: list) -> str:
    e = html.escape
    total = f"{row.score:g} / {row.max_score:g}" if isinstance(row.score, (int, float)) and \
        isinstance(row.max_score, (int, float)) else "-"
    lines = []
    for name, cell_score, maximum, manual in cells:
        shown = "not graded yet" if manual else ("not graded" if cell_score is None else f"{cell_score:g}")
        lines.append(f"<tr><td>{e(name)}</td><td>{e(shown)}</td><td>{maximum:g}</td></tr>")
    table = ("<table><tr><th>cell</th><th>score</th><th>points</th></tr>" + "".join(lines) + "</table>") \
        if lines else ""
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{e(assignment)}: {e(notebook)}</title>"
            "</head><body>"
            f"<h1>Feedback: {e(assignment)} / {e(notebook)}</h1>"
            f"<p>Student: {e(student)}</p>"
            f"<p>Status: {e(row.status)}; score: {e(total)}</p>"
            f"<p><strong>Autograder:</strong> {e(row.reason or 'no reason recorded')}</p>"
            f"{table}</body></html>\n")


def _write_page(path: Path, text: str) -> None:
    """PATH written whole (a temporary file beside it, then renamed), no link followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def generate_feedback(course: Course, assignment: str, students: list[str]) -> None:
    """Feedback pages written here, one after another (after manual grading: `hw feedback`)."""
    for student in students:
        problem = student_id_problem(student)
        message = problem and f"refused: {problem}" or feedback_page(str(course.root), assignment, student)
        if message:
            print(terminal_safe(f"feedback for {shown_id(student)} ({assignment}): {message}"), flush=True)
