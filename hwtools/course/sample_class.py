"""The bundled sample class: builds submitted/ from release/ plus each sample student's
changes in examples/sample_class/<student>/<assignment>/ (files that replace released ones,
``cells.json`` mapping a cell's grade_id to the student's source for that cell, and for an
assignment with per-student variants ``variant_cells.py``, whose ``cells(variant)`` writes the
cells that answer for the student's own numbers: ``hwtools.variants``)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from hwtools import variants
from hwtools.course import Course

CELLS_FILE = "cells.json"
VARIANT_CELLS_FILE = "variant_cells.py"
TIMESTAMP = "2026-11-20 12:00:00.000000 UTC"


def fill_cells(notebook_path: Path, sources: dict) -> None:
    notebook = nbformat.read(str(notebook_path), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    nbformat.write(notebook, str(notebook_path))


def student_cells(changes: Path, student: str, assignment: str) -> dict:
    """notebook -> grade_id -> source of a sample student: CELLS_FILE, and over it the cells
    VARIANT_CELLS_FILE writes for the student's variant (the course's own code, never a student's)."""
    cells = json.loads((changes / CELLS_FILE).read_text()) if (changes / CELLS_FILE).is_file() else {}
    script = changes / VARIANT_CELLS_FILE
    if script.is_file():
        namespace = {"__name__": f"sample_cells_{assignment}", "__file__": str(script)}
        exec(compile(script.read_text(), str(script), "exec"), namespace)  # (no bytecode left in examples/)
        for notebook_name, sources in namespace["cells"](variants.for_student(assignment, student)).items():
            cells.setdefault(notebook_name, {}).update(sources)
    return cells


def build_submission(course: Course, student: str, assignment: str, changes: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(course.release / assignment, target)
    cells = student_cells(changes, student, assignment)
    for path in changes.iterdir():
        if path.name in (CELLS_FILE, VARIANT_CELLS_FILE) or path.name.startswith("."):
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
