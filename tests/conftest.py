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
