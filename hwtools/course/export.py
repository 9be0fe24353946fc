"""Grades out of the gradebook, manual scores included, with what is still to grade by hand:

- ``gradebook_scores``: each recorded submission's score, its maximum and its points pending
  manual grading (what ``hw autograde``'s summary, ``hw export`` and ``hw report`` all show);
- ``export_grades``: a wide CSV (a row per student, a column per assignment, a total, the points
  still to grade by hand, and a ``(max)`` row) and a long CSV (a row per student and grade cell);
- ``export_lms``: a file an LMS imports (canvas, moodle or plain): a row per student under the
  id column that LMS expects, no pseudo-student row, the points possible in a file beside it.

Every text cell a spreadsheet would evaluate (a student id ``=1+1``) is written as text.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

from hwtools.course import gradebook_writer
from hwtools.course import Course
from hwtools.course.sanitize import csv_safe

LMS_FORMATS = ("canvas", "moodle", "plain")


class NothingRecorded(RuntimeError):
    """Nothing is recorded in the gradebook yet for what was asked; the message says what to run."""


class Scores(NamedTuple):
    """A recorded submission's points as the gradebook has them (a TA's manual scores included)."""

    score: float
    max_score: float
    pending: float  # points of written answers no TA has graded yet (not in ``score``), bonus answers' included

    def shown(self) -> str:
        """``15/17 (2 to grade by hand)``, or ``16.5/17``."""
        text = f"{self.score:g}/{self.max_score:g}"
        return text + (f" ({self.pending:g} to grade by hand)" if self.pending else "")


def _scores(submission, bonus: dict | None = None) -> Scores:
    """BONUS: ``gradebook_writer.bonus_cells`` of the assignment: a bonus answer waiting for a TA
    counts its bonus points as pending (its maximum in the gradebook is 0)."""
    bonus = bonus or {}
    pending = sum(float(grade.max_score or 0) + bonus.get((notebook.name, grade.name), 0.0)
                  for notebook in submission.notebooks for grade in notebook.grades if grade.needs_manual_grade)
    return Scores(round(float(submission.score or 0), 6), float(submission.max_score or 0), round(pending, 6))


def gradebook_scores(course: Course, assignment: str, students: list[str] | None = None) -> dict[str, Scores]:
    """{student: Scores(score, max_score, pending)} for each submission of ASSIGNMENT recorded in
    the gradebook (of STUDENTS only, when given; a student with no recorded submission is left
    out, as is an assignment never released)."""
    from nbgrader.api import MissingEntry

    with gradebook_writer.open_gradebook(course) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return {}
        wanted = None if students is None else set(students)
        bonus = gradebook_writer.bonus_cells(course, assignment)
        return {s.student.id: _scores(s, bonus) for s in sorted(gb.assignment_submissions(assignment),
                                                          key=lambda s: s.student.id)
                if wanted is None or s.student.id in wanted}


def recorded_assignments(course: Course) -> list[str]:
    """Assignments in the gradebook (`hw release` records them)."""
    with gradebook_writer.open_gradebook(course) as gb:
        return [a.name for a in gb.assignments]


def _pending_text(pending: dict[str, float]) -> str:
    return "; ".join(f"{assignment}: {points:g}" for assignment, points in pending.items() if points)


def _class_grades(course: Course) -> tuple[list[str], dict[str, float], dict[str, dict[str, Scores]]]:
    """(assignments in the gradebook, their points possible, {student: {assignment: Scores}}),
    or NothingRecorded saying what to run first."""
    with gradebook_writer.open_gradebook(course) as gb:
        names = [a.name for a in gb.assignments]
        maxima = {a.name: float(a.max_score) for a in gb.assignments}
        grades: dict[str, dict[str, Scores]] = {}
        for assignment in names:
            bonus = gradebook_writer.bonus_cells(course, assignment)
            for submission in gb.assignment_submissions(assignment):
                grades.setdefault(submission.student.id, {})[assignment] = _scores(submission, bonus)
    if not names:
        raise NothingRecorded("nothing to export: no assignment is in the gradebook yet; run `hw release` and "
                              "`hw autograde` first")
    if not grades:
        raise NothingRecorded(f"nothing to export: no submission of {', '.join(names)} is graded yet; run "
                              "`hw autograde` first")
    order = {a: i for i, a in enumerate(course.assignments())}
    names.sort(key=lambda a: (order.get(a, len(order)), a))
    return names, maxima, dict(sorted(grades.items()))


def export_grades(course: Course, wide_path: Path | None = None, long_path: Path | None = None) -> tuple[Path, Path]:
    """grades.csv and grades_long.csv (at the course root unless given) from the gradebook;
    NothingRecorded (nothing written) before anything is graded."""
    wide_path = Path(wide_path) if wide_path else course.grades_csv
    long_path = Path(long_path) if long_path else wide_path.with_name("grades_long.csv")
    assignments, maxima, grades = _class_grades(course)
    wide = []
    for student, scores in grades.items():
        row = {"student": student, **{a: round(scores[a].score, 3) if a in scores else "" for a in assignments}}
        row["total"] = round(sum(s.score for s in scores.values()), 3)
        row["pending_manual"] = _pending_text({a: s.pending for a, s in scores.items()})
        wide.append(row)
    max_row = {"student": "(max)", **maxima, "total": sum(maxima.values()), "pending_manual": ""}
    long_rows = []
    with gradebook_writer.open_gradebook(course) as gb:
        for student in grades:
            for assignment in assignments:
                if assignment not in grades[student]:
                    continue
                for notebook in gb.find_submission(assignment, student).notebooks:
                    for grade in notebook.grades:
                        long_rows.append({"student": student, "assignment": assignment, "notebook": notebook.name,
                                          "cell": grade.name, "score": grade.score, "max_score": grade.max_score,
                                          "needs_manual_grade": grade.needs_manual_grade,
                                          "graded_by": _graded_by(grade)})
    _write(wide_path, ["student", *assignments, "total", "pending_manual"], [max_row, *wide])
    _write(long_path, ["student", "assignment", "notebook", "cell", "score", "max_score", "needs_manual_grade",
                       "graded_by"], long_rows)
    return wide_path, long_path


def _graded_by(grade) -> str:
    if grade.needs_manual_grade:
        return "pending (to grade by hand)"
    return "TA" if grade.manual_score is not None or grade.extra_credit is not None else "autograder"


def export_lms(course: Course, lms: str, folder: Path | None = None) -> tuple[Path, Path]:
    """``grades_<lms>.csv`` and ``points_possible.csv`` in FOLDER (the course root by default):

    - canvas: Canvas's gradebook import (Grades > Import): ``Student``, ``ID``, ``SIS User ID``,
      ``SIS Login ID`` (the student id), ``Section``, then a column per assignment. Canvas makes
      a new assignment of every column it does not know, so nothing else is in the file.
    - moodle: Moodle's "Import grades from CSV": ``username``, a column per assignment (map each
      to its grade item) and ``pending_manual`` (leave it unmapped, or map it to feedback).
    - plain: ``student_id``, a column per assignment, ``total`` and ``pending_manual``.

    Scores include the TAs' manual points; ``pending_manual`` and ``points_possible.csv`` name
    the points still to grade by hand (those scores are partial)."""
    if lms not in LMS_FORMATS:
        raise ValueError(f"unknown LMS format {lms!r}; one of {', '.join(LMS_FORMATS)}")
    folder = Path(folder) if folder else course.root
    assignments, maxima, grades = _class_grades(course)
    rows = []
    for student, scores in grades.items():
        marks = {a: round(scores[a].score, 3) if a in scores else "" for a in assignments}
        pending = _pending_text({a: s.pending for a, s in scores.items()})
        if lms == "canvas":
            rows.append({"Student": student, "ID": "", "SIS User ID": "", "SIS Login ID": student, "Section": "",
                         **marks})
        elif lms == "moodle":
            rows.append({"username": student, **marks, "pending_manual": pending})
        else:
            rows.append({"student_id": student, **marks, "total": round(sum(s.score for s in scores.values()), 3),
                         "pending_manual": pending})
    head = {"canvas": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], "moodle": ["username"],
            "plain": ["student_id"]}[lms]
    tail = {"canvas": [], "moodle": ["pending_manual"], "plain": ["total", "pending_manual"]}[lms]
    grades_path, points_path = folder / f"grades_{lms}.csv", folder / "points_possible.csv"
    _write(grades_path, [*head, *assignments, *tail], rows)
    _write(points_path, ["assignment", "points_possible", "pending_manual"], [
        {"assignment": a, "points_possible": maxima[a],
         "pending_manual": "; ".join(f"{s}: {g[a].pending:g}" for s, g in grades.items() if a in g and g[a].pending)}
        for a in assignments])
    return grades_path, points_path


def pending_summary(course: Course) -> str:
    """One line on the points still to grade by hand across the class ('' when none)."""
    _, _, grades = _class_grades(course)
    students = {s: sum(x.pending for x in scores.values()) for s, scores in grades.items()}
    students = {s: p for s, p in students.items() if p}
    if not students:
        return ""
    return (f"{len(students)} student(s) have points still to grade by hand ({sum(students.values()):g} in all; "
            "their scores are partial): see the pending_manual column, or grade them in the formgrader")


def _write(path: Path, fields: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writerow({f: csv_safe(f) for f in fields})  # (an assignment id is text a spreadsheet shows too)
        # student ids (and any other text) a spreadsheet would run as formulas are neutralised
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
