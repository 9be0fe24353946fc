"""A TA's manual grade saved while `hw autograde` records the same submission is never undone.

The formgrader commits a manual score (and clears "needs manual grade") the moment a TA leaves
the box. A student resubmits a written answer they had left blank, and while `hw autograde`
records the resubmission a TA grades the new answer: if the TA's commit landed between the
moment the autograder read the grade row and its own commit, the autograder decided from the
stale row that the answer still waits for a TA and wrote that flag over the TA's: a graded
answer listed as ungraded, in `hw export` and the formgrader.
`gradebook_writer.record_result` now reads each row again under a lock (SELECT ... FOR UPDATE on
PostgreSQL). The TA's commit is made to land exactly there, on SQLite and on a real PostgreSQL.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import copy_course
from hwtools.course import gradebook_writer
from hwtools.grading.results import CellGrade, SubmissionResult

ASSIGNMENT, STUDENT, COURSE_ID = "batchnorm", "carol", "deep-learning-hw"


@pytest.fixture(scope="module")
def postgres():
    from services import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def released(request, tmp_path, monkeypatch):
    """A course with batchnorm released into the given gradebook (HW_DB_URL set for this test)."""
    course = copy_course(tmp_path / "course")
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"race_{os.getpid()}_{len(os.listdir(tmp_path.parent))}")
        monkeypatch.setenv("HW_DB_URL", url)
    else:
        url = f"sqlite:///{course.root / 'gradebook.db'}"
        monkeypatch.delenv("HW_DB_URL", raising=False)
    done = subprocess.run([str(Path(sys.executable).parent / "hw"), "release", ASSIGNMENT], cwd=course.root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return course, url


def graded_result(course, answered: bool) -> tuple[SubmissionResult, tuple[str, str]]:
    """Every automatic cell at full marks; the first written answer left blank (nbgrader scores an
    unchanged answer 0 itself: nothing waits for a TA) or ANSWERED (it waits for a TA). That
    answer comes first, no row written before it, so SQLite's file lock does not hide the race."""
    grades = [CellGrade(notebook, name, None if info["manual"] else info["max_score"], info["manual"], info["max_score"])
              for notebook, cells in gradebook_writer.assignment_cells(course, ASSIGNMENT).items()
              for name, info in cells.items()]
    written = next(g for g in grades if g.needs_manual_grade and g.max_score > 0)
    grades.remove(written)
    if not answered:
        written = CellGrade(written.notebook, written.name, 0.0, False, written.max_score)
    result = SubmissionResult(STUDENT, ASSIGNMENT, "graded", score=0.0, max_score=0.0, grades=[written, *grades])
    return result, (written.notebook, written.name)


def test_a_manual_grade_saved_while_the_autograder_records_stays_graded(released):
    from nbgrader.api import Gradebook

    course, url = released
    blank, (notebook, cell) = graded_result(course, answered=False)
    with gradebook_writer.open_gradebook(course) as gradebook:
        gradebook_writer.record_result(course, blank, gradebook)  # the first hand-in: the answer left blank
    result, _ = graded_result(course, answered=True)  # resubmitted with the answer written: it waits for a TA

    def ta_saves_the_score():  # the formgrader: one commit for the box the TA left
        with Gradebook(url, COURSE_ID) as ta:
            grade = ta.find_grade(cell, notebook, ASSIGNMENT, STUDENT)
            grade.manual_score, grade.needs_manual_grade = 1.0, False
            ta.db.commit()

    ta = threading.Thread(target=ta_saves_the_score)
    with gradebook_writer.open_gradebook(course) as gradebook:  # `hw autograde`: the resubmission's rows
        find_grade = gradebook.find_grade

        def find_then_the_ta_commits(name, notebook_name, assignment, student):
            grade = find_grade(name, notebook_name, assignment, student)
            if (notebook_name, name) == (notebook, cell) and not ta.is_alive():
                ta.start()
                ta.join(timeout=10)  # committed now (or waiting for this record's lock: then after it)
            return grade

        gradebook.find_grade = find_then_the_ta_commits
        gradebook_writer.record_result(course, result, gradebook)
    ta.join(timeout=60)
    assert not ta.is_alive(), "the TA's commit never went through"

    with Gradebook(url, COURSE_ID) as gb:
        grade = gb.find_grade(cell, notebook, ASSIGNMENT, STUDENT)
        assert (grade.manual_score, grade.needs_manual_grade) == (1.0, False), \
            "the TA's grade was saved, yet the answer is listed as waiting for a TA"
        automatic = [gb.find_grade(g.name, g.notebook, ASSIGNMENT, STUDENT) for g in result.grades if not g.needs_manual_grade]
        assert automatic and all(g.auto_score == g.max_score for g in automatic)
