"""Grades out of the gradebook: a wide CSV an LMS accepts (a row per student, a column per
assignment and a total) and a long CSV (a row per student and grade cell) for analysis."""
from __future__ import annotations

import csv
from pathlib import Path

from hwtools.course import gradebook_writer
from hwtools.course import Course
from hwtools.course.sanitize import csv_safe


def export_grades(course: Course, wide_path: Path, long_path: Path) -> tuple[Path, Path]:
    with gradebook_writer.open_gradebook(course) as gb:
        assignments = [a.name for a in gb.assignments]
        students = sorted(s.id for s in gb.students)
        wide, long_rows = [], []
        for student in students:
            row = {"student": student}
            for assignment in assignments:
                try:
                    submission = gb.find_submission(assignment, student)
                except Exception:
                    row[assignment] = ""
                    continue
                row[assignment] = round(submission.score, 3)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        long_rows.append({"student": student, "assignment": assignment, "notebook": notebook.name,
                                          "cell": grade.name, "score": grade.score, "max_score": grade.max_score,
                                          "needs_manual_grade": grade.needs_manual_grade})
            row["total"] = round(sum(v for k, v in row.items() if k in assignments and v != ""), 3)
            wide.append(row)
        max_row = {"student": "(max)", **{a: gb.find_assignment(a).max_score for a in assignments}}
        max_row["total"] = sum(max_row[a] for a in assignments)
    _write(wide_path, ["student", *assignments, "total"], [max_row, *wide])
    _write(long_path, ["student", "assignment", "notebook", "cell", "score", "max_score", "needs_manual_grade"],
           long_rows)
    return wide_path, long_path


def _write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        # student ids (and any other text) a spreadsheet would run as formulas are neutralised
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
