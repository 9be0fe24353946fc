"""Shared fixtures: a throwaway copy of the course, so tests never touch the repository's
gradebook, submitted/ or feedback/ and do not depend on the working directory."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hwtools.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE_PARTS = ("nbgrader_config.py", "source", "release", "tests/hidden", "examples")

os.environ.setdefault("HW_MODE", "ci")
os.environ.setdefault("HW_DATA", "fixture")


def copy_course(target: Path) -> Course:
    for part in COURSE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, target / part, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target / part)
    return Course(target)


@pytest.fixture(scope="session")
def repo() -> Course:
    return Course(REPO)


@pytest.fixture
def course(tmp_path) -> Course:
    return copy_course(tmp_path / "course")


@pytest.fixture(scope="session")
def session_course(tmp_path_factory) -> Course:
    return copy_course(tmp_path_factory.mktemp("course"))


def fixture_path(*parts: str) -> Path:
    return REPO / "tests" / "fixtures" / Path(*parts)


def submit_folder(course: Course, assignment: str, student: str, folder: Path) -> Path:
    """Put a folder in place as the student's submission (nbgrader layout) and return it."""
    target = course.submission_dir(student, assignment)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return target


def submit_source_solution(course: Course, assignment: str, student: str = "reference_solution") -> Path:
    """The instructor's solution submitted as a student's work: it must score full marks."""
    return submit_folder(course, assignment, student, course.source / assignment)


def submit_release(course: Course, assignment: str, student: str = "untouched_release") -> Path:
    """The release handed in untouched: it must score zero."""
    return submit_folder(course, assignment, student, course.release / assignment)


def grade_class(tmp_path_factory, assignment: str, *, samples: bool = True, release: bool = False,
                cell_timeout: int | None = None) -> tuple[Course, dict]:
    """Autograde, end to end, a course copy's class for one assignment: the source solution as
    ``reference_solution``, the sample students (carol_stub is the untouched release) and, when
    asked, the release as ``untouched_release``. Returns the course and results by student."""
    with pytest.MonkeyPatch.context() as patch:
        if cell_timeout:
            patch.setenv("HW_CELL_TIMEOUT", str(cell_timeout))
        course = copy_course(tmp_path_factory.mktemp(f"{assignment}_class"))
        from hwtools.autograde import autograde
        from hwtools.release import release_all
        from hwtools.sample_class import build_sample_class

        release_all(course, [assignment])
        submit_source_solution(course, assignment)
        if release:
            submit_release(course, assignment)
        if samples:
            build_sample_class(course, [assignment])
        results = autograde(course, assignment, workers=2)
    return course, {r["student"]: r for r in results}
