"""The single writer: records graded submissions in the course's gradebook and autograded/.

Workers grade in scratch folders; only this module writes the real gradebook (SQLite or any
SQLAlchemy URL) and the course's autograded/ folder, one submission at a time, so parallel
grading never races on them. Manual scores given by TAs are never overwritten.
"""
from __future__ import annotations

import json
import shutil
import warnings
from datetime import datetime
from pathlib import Path

from hwtools import nbgrader_bridge
from hwtools.course import Course, student_id_problem

def state_path(course: Course, assignment: str, student: str) -> Path:
    """Beside the autograded folder, not in it: nbgrader copies that folder into the feedback."""
    return course.autograded / student / f".hw-grade-{assignment}.json"


def _timestamp(submitted: Path):
    stamp = submitted / "timestamp.txt"
    if not stamp.is_file():
        return None
    from nbgrader.utils import parse_utc
    try:
        return parse_utc(stamp.read_text().strip())
    except Exception:
        return None


def _sanitize_copy(path: Path) -> None:
    """The formgrader renders autograded/ to a TA: no student script in it. A notebook that is
    not one (a corrupt submission) renders nothing and is left as it is."""
    import nbformat

    from hwtools.sanitize import sanitize_notebook

    if path.is_symlink() or not path.is_file():
        return
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:
        return
    sanitize_notebook(notebook)
    nbformat.write(notebook, str(path))


def record_result(course: Course, result: dict, gradebook) -> None:
    """Write one result (from ``grade.grade_submission``) into the gradebook and autograded/."""
    assignment, student = result["assignment"], result["student"]
    problem = student_id_problem(student)
    if problem:  # never a path made of it (hw autograde refuses such an id before grading)
        raise ValueError(f"not recorded: {problem}")
    target = course.autograded_dir(student, assignment)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    source = Path(result["autograded_files"])
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
        for notebook in target.rglob("*.ipynb"):
            _sanitize_copy(notebook)

    gradebook.update_or_create_student(student)
    kwargs = {}
    timestamp = _timestamp(course.submission_dir(student, assignment))
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    gradebook.update_or_create_submission(assignment, student, **kwargs)
    for row in result["grades"]:
        grade = gradebook.find_grade(row["name"], row["notebook"], assignment, student)
        grade.auto_score = row["auto_score"]
        grade.needs_manual_grade = bool(row["needs_manual_grade"]) and grade.manual_score is None
    gradebook.db.commit()
    state = {k: result[k] for k in ("status", "reason", "score", "max_score", "manual_pending", "fingerprint", "seconds",
                                    "hidden_status", "checks")}
    state["recorded_at"] = datetime.now().isoformat(timespec="seconds")
    state_path(course, assignment, student).write_text(json.dumps(state, indent=1))
    shutil.rmtree(result["scratch"], ignore_errors=True)


def recorded_state(course: Course, assignment: str, student: str) -> dict | None:
    """What was recorded for a submission, or None if it was never graded (or the record is torn)."""
    path = state_path(course, assignment, student)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def open_gradebook(course: Course):
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    # nbgrader's own update_or_create_submission trips this harmless SQLAlchemy warning
    warnings.filterwarnings("ignore", category=SAWarning, module="nbgrader")
    config = nbgrader_bridge.course_config(course.root)
    nbgrader_bridge.ensure_venv_on_path()
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)
