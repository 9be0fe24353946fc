"""The single writer: records graded submissions in the course's gradebook and autograded/.

Workers grade in scratch folders of their own and send back everything recorded here as data
(the autograded notebooks and the small files beside them, by name); only this module writes
the real gradebook (SQLite or any SQLAlchemy URL) and the course's autograded/ folder, one
submission at a time, so parallel grading never races on them and no worker's disk is read.
Manual scores given by TAs are never overwritten.
"""
from __future__ import annotations

import json
import os
import warnings
from datetime import datetime
from pathlib import Path

from hwtools.course import nbgrader_bridge
from hwtools.course import Course, student_id_problem
from hwtools.grading.results import SubmissionResult
from hwtools.sandbox.untrusted_files import fresh_folder

MB = 1024 * 1024
RESULT_FILE_BYTES = 50 * MB  # a file beside the notebook kept for the feedback
RESULT_TOTAL_BYTES = 200 * MB  # all the files beside the notebooks of one result
RESULT_NOTEBOOK_BYTES = 200 * MB  # one autograded notebook
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def result_name_problem(name) -> str | None:
    """Why NAME cannot name a file of autograded/ (a plain name only), or None."""
    if not isinstance(name, str) or not name:
        return f"{name!r} is not a file name"
    if "/" in name or "\\" in name or "\0" in name or ".." in name:
        return f"{name!r} is not a plain file name"
    if name.startswith("."):
        return f"{name!r} starts with a dot"
    return None


def kept_files(files: dict) -> tuple[dict[str, bytes], list[str]]:
    """The files of a result that go into autograded/ (plain names, bytes, under the caps:
    each notebook under RESULT_NOTEBOOK_BYTES, each other file under RESULT_FILE_BYTES and
    all of them under RESULT_TOTAL_BYTES, kept in the order given), and a line for each one
    left out."""
    if not isinstance(files, dict):
        return {}, [] if files is None else ["left out of the autograded files: all, not a mapping of names to bytes"]
    kept, left_out, total = {}, [], 0
    for name, data in files.items():
        problem = result_name_problem(name)
        if problem is None and not isinstance(data, bytes):
            problem = f"{name} is not the bytes of a file"
        elif problem is None and name.endswith(".ipynb"):
            if len(data) > RESULT_NOTEBOOK_BYTES:
                problem = f"{name} is over the {RESULT_NOTEBOOK_BYTES // MB} MB kept of a notebook"
        elif problem is None and len(data) > RESULT_FILE_BYTES:
            problem = f"{name} is over the {RESULT_FILE_BYTES // MB} MB kept for the feedback"
        elif problem is None and total + len(data) > RESULT_TOTAL_BYTES:
            problem = f"{name} is over the {RESULT_TOTAL_BYTES // MB} MB kept in all for the feedback"
        if problem:
            left_out.append(f"left out of the autograded files: {problem}")
            continue
        total += 0 if name.endswith(".ipynb") else len(data)
        kept[name] = data
    return kept, left_out


def is_bonus(grade_cell) -> bool:
    """A gradebook grade cell that is a bonus question's answer (``authoring.is_bonus``), whose
    points a TA gives as extra credit."""
    from hwtools.course.authoring import is_bonus as bonus_kind

    return bonus_kind(grade_cell.cell_type, grade_cell.max_score)


def bonus_cells(course: Course, assignment: str) -> dict[tuple[str, str], float]:
    """{(notebook, grade_id): bonus points} of ASSIGNMENT's bonus answer cells, from its source
    notebooks (the gradebook knows them only as cells worth 0 points)."""
    import nbformat

    from hwtools.course.authoring import bonus_points

    cells = {}
    for path in sorted((course.source / assignment).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            points = bonus_points(cell)
            if points is not None:
                cells[(path.stem, cell.metadata.get("nbgrader", {}).get("grade_id", ""))] = points
    return cells


def state_path(course: Course, assignment: str, student: str) -> Path:
    return course.grading_state(student, assignment)


def _timestamp(stamp: Path):
    if not stamp.is_file():
        return None
    from nbgrader.utils import parse_utc
    try:
        return parse_utc(stamp.read_text().strip())
    except Exception:
        return None


def _sanitized(data: bytes) -> bytes:
    """The formgrader renders autograded/ to a TA: no student script in it. A notebook that is
    not one (a corrupt submission) renders nothing and is kept as it is."""
    import nbformat

    from hwtools.course.sanitize import sanitize_notebook

    try:
        notebook = nbformat.reads(data.decode(), as_version=4)
    except Exception:
        return data
    sanitize_notebook(notebook)
    text = nbformat.writes(notebook)
    return (text if text.endswith("\n") else text + "\n").encode()


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Each file created in FOLDER by its plain name, never over an entry or through a link."""
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for name, data in files.items():
            fd = os.open(name, _WRITE_FLAGS, 0o644, dir_fd=folder_fd)
            with os.fdopen(fd, "wb") as handle:
                handle.write(_sanitized(data) if name.endswith(".ipynb") else data)
    finally:
        os.close(folder_fd)


def record_result(course: Course, result: SubmissionResult, gradebook) -> list[str]:
    """Write one result (from ``grade.grade_task``) into the gradebook and autograded/, from
    the result alone (no worker's path is read). A file the result cannot put there (a name
    that is not plain, over a cap) is left out; the lines saying so are added to the result's
    flags and reason, recorded, and returned."""
    assignment, student = result.assignment, result.student
    problem = student_id_problem(student)
    if problem:  # never a path made of it (hw autograde refuses such an id before grading)
        raise ValueError(f"not recorded: {problem}")
    files, left_out = kept_files(result.files)
    if left_out:
        result.flags = [*result.flags, *left_out]
        result.reason = "; ".join(filter(None, [result.reason, *left_out]))
    _write_files(fresh_folder(course.autograded_dir(student, assignment)), files)

    gradebook.update_or_create_student(student)
    kwargs = {}
    timestamp = _timestamp(course.timestamp_file(student, assignment))
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    gradebook.update_or_create_submission(assignment, student, **kwargs)
    for row in result.grades:
        grade = _locked(gradebook, gradebook.find_grade(row.name, row.notebook, assignment, student))
        grade.auto_score = row.auto_score
        if row.auto_score is None and is_bonus(grade.cell):
            # nbgrader's Grade.score adds extra credit only to a manual or an auto score: a TA who
            # types a bonus's points in the formgrader's extra-credit box and leaves the score
            # box empty would add nothing. 0 of its 0 points is the bonus cell's true score.
            grade.auto_score = 0.0
        # a TA's grade is a manual score or, for a bonus, extra credit alone: a regrade keeps it graded
        grade.needs_manual_grade = bool(row.needs_manual_grade) and grade.manual_score is None \
            and grade.extra_credit is None
    gradebook.db.commit()
    state = dict(result.state(), recorded_at=datetime.now().isoformat(timespec="seconds"))
    state_path(course, assignment, student).write_text(json.dumps(state, indent=1))
    return left_out


def _locked(gradebook, grade):
    """GRADE read again from the database, as committed now, and locked until this record's
    commit (SELECT ... FOR UPDATE on PostgreSQL; SQLite locks the whole file when it writes).
    A TA saving a manual score in the formgrader meanwhile either committed first, and this
    record sees the score (and leaves the answer graded), or waits for this commit, and writes
    the score after it; without the lock the record decided from a stale read and flagged a
    graded answer as waiting for a TA again."""
    from nbgrader.api import Grade

    return gradebook.db.query(Grade).filter(Grade.id == grade.id).populate_existing().with_for_update().one()


def remove_student(course: Course, student: str) -> list[str]:
    """Remove a student recorded by mistake (a typo graded as a phantom at zero): their rows in
    the gradebook, and their autograded/ (with the grading state) and feedback/ folders. Their submitted/ folder,
    if any, stays. Returns what was done, a line each."""
    import shutil

    from nbgrader.api import MissingEntry

    problem = student_id_problem(student)
    if problem:
        raise ValueError(problem)
    done = []
    with open_gradebook(course) as gradebook:
        try:
            gradebook.remove_student(student)
            done.append(f"removed {student} from the gradebook")
        except MissingEntry:
            done.append(f"{student} is not in the gradebook")
    for folder in (course.autograded / student, course.feedback / student):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            done.append(f"removed {folder.relative_to(course.root)}/")
    return done  # (the grading state lives in autograded/<student>/)


def recorded_state(course: Course, assignment: str, student: str) -> dict | None:
    """What was recorded for a submission, or None if it was never graded (or the record is torn)."""
    path = state_path(course, assignment, student)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def assignment_cells(course: Course, assignment: str) -> dict:
    """Grade cells of each notebook (name -> max points, manual?, and what nbgrader needs to
    score them: solution?, locked?, cell type, checksum) as released, from the course's
    gradebook: read once by the driver and sent to each grading task as data."""
    cells = {}
    with open_gradebook(course) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            solutions = {c.name for c in notebook.solution_cells}
            sources = {c.name: c for c in notebook.source_cells}
            cells[notebook.name] = {
                c.name: {"max_score": c.max_score, "manual": c.cell_type == "markdown", "cell_type": c.cell_type,
                         "solution": c.name in solutions, "locked": bool(getattr(sources.get(c.name), "locked", False)),
                         "checksum": getattr(sources.get(c.name), "checksum", None)}
                for c in notebook.grade_cells}
    return cells


def open_gradebook(course: Course):
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    # nbgrader's own update_or_create_submission trips this harmless SQLAlchemy warning
    warnings.filterwarnings("ignore", category=SAWarning, module="nbgrader")
    config = nbgrader_bridge.course_config(course.root)
    nbgrader_bridge.ensure_venv_on_path()
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)
