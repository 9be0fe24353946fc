"""The bundled sample class: builds submitted/ from release/ plus each sample student's
changes in examples/sample_class/<student>/<assignment>/ (files that replace released ones,
and ``cells.json`` mapping a cell's grade_id to the student's source for that cell)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from hwtools.course import Course

CELLS_FILE = "cells.json"
TIMESTAMP = "2026-11-20 12:00:00.000000 UTC"


def fill_cells(notebook_path: Path, sources: dict) -> None:
    notebook = nbformat.read(str(notebook_path), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    nbformat.write(notebook, str(notebook_path))


def build_submission(course: Course, student: str, assignment: str, changes: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(course.release / assignment, target)
    cells = json.loads((changes / CELLS_FILE).read_text()) if (changes / CELLS_FILE).is_file() else {}
    for path in changes.iterdir():
        if path.name == CELLS_FILE or path.name.startswith("."):
            continue
        if path.name.endswith(".delete"):
            (target / path.name[: -len(".delete")]).unlink(missing_ok=True)
        else:
            shutil.copy(path, target / path.name)
    for notebook_name, sources in cells.items():
        fill_cells(target / notebook_name, sources)
    (target / "timestamp.txt").write_text(TIMESTAMP)


def build_sample_class(course: Course, assignments: list[str]) -> list[tuple[str, str]]:
    """Write submitted/<student>/<assignment> for every sample student; returns what was built."""
    built = []
    for student_dir in sorted(p for p in course.sample_class.iterdir() if p.is_dir()):
        for assignment in assignments:
            changes = student_dir / assignment
            if changes.is_dir():
                build_submission(course, student_dir.name, assignment, changes,
                                 course.submission_dir(student_dir.name, assignment))
                built.append((student_dir.name, assignment))
    return built
