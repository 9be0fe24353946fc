"""The gradebook on a real PostgreSQL server (README, "Gradebook"), as a course with several TAs
runs it: `HW_DB_URL=postgresql+psycopg://...` in the environment of every hw run.

- the batchnorm sample class autogrades into Postgres with the same scores, cell by cell, as into
  SQLite, and `hw export` writes the same CSVs from either;
- `hw autograde` killed with kill -9 mid-run and run again loses and duplicates nothing;
- while `hw autograde --force` records grades (bob_partial has resubmitted, so his rows really
  change), a second process writes manual scores and comments for the same students through
  nbgrader's API, the way the formgrader does (one commit a box);
  afterwards every manual score and comment is the TA's last, every autograded score is recorded,
  nobody saw a lock error, and `hw export` adds the two.

The server is Debian's PostgreSQL started for this module in a temp folder (tests/services.py).
"""
from __future__ import annotations

import csv
import difflib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import copy_course
from hwtools.course.sample_class import build_sample_class
from services import PostgresServer

BIN = Path(sys.executable).parent
ASSIGNMENT = "batchnorm"


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    print(f"\nPostgreSQL {server.bin} on 127.0.0.1:{server.port}, data in {server.data}")
    yield server
    server.stop()


def hw_env(db_url: str | None) -> dict:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("HW_DB_URL", None)
    if db_url:
        env["HW_DB_URL"] = db_url
    return env


def hw(course, db_url: str | None, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "hw"), *args], cwd=course.root, env=hw_env(db_url), capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def class_course(folder: Path, db_url: str | None):
    course = copy_course(folder)
    hw(course, db_url, "release", ASSIGNMENT)
    build_sample_class(course, [ASSIGNMENT])
    return course


def cells(db_url: str) -> dict:
    """{(student, notebook, cell): (auto_score, manual_score, needs_manual_grade)} of the assignment."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, "deep-learning-hw") as gb:
        return {(s.student.id, n.name, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
                for s in gb.assignment_submissions(ASSIGNMENT) for n in s.notebooks for g in n.grades}


def row_counts(postgres: PostgresServer, database: str) -> dict:
    with postgres.connect(database) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")}


def exported(course, db_url: str | None) -> dict[str, str]:
    hw(course, db_url, "export")
    return {name: (course.root / name).read_text() for name in ("grades.csv", "grades_long.csv")}


@pytest.fixture(scope="module")
def sqlite_class(tmp_path_factory):
    """The same class graded into the default SQLite gradebook: what Postgres must agree with."""
    course = class_course(tmp_path_factory.mktemp("sqlite_class"), None)
    hw(course, None, "autograde", ASSIGNMENT, "--workers", "2")
    return course, cells(f"sqlite:///{course.root / 'gradebook.db'}"), exported(course, None)


@pytest.fixture(scope="module")
def killed_and_rerun(postgres, tmp_path_factory):
    """The class graded into Postgres by a `hw autograde` killed with kill -9 after its first
    submission, then run again. What the tests check is read here, before any test changes it:
    {course, url, recorded (submissions when killed), rerun, cells, counts, csvs}."""
    url = postgres.create_database("course")
    course = class_course(tmp_path_factory.mktemp("postgres_class"), url)
    driver = subprocess.Popen([str(BIN / "hw"), "autograde", ASSIGNMENT, "--workers", "1"], cwd=course.root,
                              env=hw_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    seen = []
    for line in driver.stdout:
        seen.append(line)
        if line.startswith("[1/"):
            break
    os.killpg(driver.pid, signal.SIGKILL)  # the driver, its Dask cluster and its graders
    driver.wait()
    assert driver.returncode == -signal.SIGKILL, "".join(seen)[-2000:]
    recorded = row_counts(postgres, "course")["submitted_assignment"]
    rerun = hw(course, url, "autograde", ASSIGNMENT, "--workers", "2")
    return {"course": course, "url": url, "recorded": recorded, "rerun": rerun, "cells": cells(url),
            "counts": row_counts(postgres, "course"), "csvs": exported(course, url)}


def test_killed_with_kill_9_and_rerun_postgres_has_sqlite_scores_and_nothing_twice(sqlite_class, killed_and_rerun):
    _, sqlite_cells, sqlite_csvs = sqlite_class
    recorded, done, counts, csvs = (killed_and_rerun[k] for k in ("recorded", "rerun", "counts", "csvs"))
    students = sorted({student for student, _, _ in sqlite_cells})
    assert 1 <= recorded < len(students)
    assert f"{recorded} submission(s) unchanged since graded, kept" in done.stdout, done.stdout[-2000:]
    assert f"grading {len(students) - recorded} submission(s)" in done.stdout, done.stdout[-2000:]
    assert killed_and_rerun["cells"] == sqlite_cells
    per_student = len(sqlite_cells) // len(students)
    assert (counts["student"], counts["submitted_assignment"], counts["grade"]) == \
        (len(students), len(students), len(students) * per_student), counts
    # hw export reads the same numbers from Postgres (grades_long.csv lists a student's cells in
    # the database's row order, which differs between the two: compared as a set of rows)
    assert csvs["grades.csv"] == sqlite_csvs["grades.csv"], "".join(difflib.unified_diff(
        sqlite_csvs["grades.csv"].splitlines(True), csvs["grades.csv"].splitlines(True), "sqlite", "postgres"))
    long, sqlite_long = (text.splitlines() for text in (csvs["grades_long.csv"], sqlite_csvs["grades_long.csv"]))
    assert long[0] == sqlite_long[0] and sorted(long) == sorted(sqlite_long), "\n".join(difflib.unified_diff(
        sorted(sqlite_long), sorted(long), "sqlite", "postgres"))


TA = textwrap.dedent("""
    # A TA in the formgrader: one Gradebook for the server, one commit per box left, as nbgrader's
    # GradeHandler.put and CommentHandler.put do. Writes rounds of scores until STOP exists.
    import json, sys, time, traceback
    from pathlib import Path
    from nbgrader.api import Gradebook

    url, targets, stop, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    last, errors, rounds = {}, [], 0
    gb = Gradebook(url, "deep-learning-hw")
    ids = {}
    for student, notebook, cell in targets:
        grade = gb.find_grade(cell, notebook, "batchnorm", student)
        comment = gb.find_comment(cell, notebook, "batchnorm", student)
        ids[(student, notebook, cell)] = (grade.id, comment.id)
    gb.db.commit()
    started = time.monotonic()
    while rounds < 2000 and time.monotonic() - started < 600:
        finished = stop.exists()  # one more full round after the autograder is done
        rounds += 1
        for key, (grade_id, comment_id) in ids.items():
            score = [0.0, 0.5, 1.0][rounds % 3]
            try:
                grade = gb.find_grade_by_id(grade_id)
                grade.manual_score = score
                grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
                gb.db.commit()
                comment = gb.find_comment_by_id(comment_id)
                comment.manual_comment = f"round {rounds}: {key[2]}"
                gb.db.commit()
                last["|".join(key)] = [score, comment.manual_comment]
            except Exception:
                gb.db.rollback()
                errors.append(traceback.format_exc())
        if finished:
            break
        time.sleep(0.05)
    gb.close()
    out.write_text(json.dumps({"last": last, "errors": errors, "rounds": rounds}))
""")


def test_manual_grading_while_the_autograder_records_loses_no_update(sqlite_class, killed_and_rerun, tmp_path):
    _, sqlite_cells, _ = sqlite_class
    course, url = killed_and_rerun["course"], killed_and_rerun["url"]
    # bob_partial resubmits (alice_correct's work) while a TA grades: the regrade really writes
    # his rows (new automatic scores, and an answer that now waits for a TA) as the TA writes them
    shutil.rmtree(course.submission_dir("bob_partial", ASSIGNMENT))
    shutil.copytree(course.submission_dir("alice_correct", ASSIGNMENT), course.submission_dir("bob_partial", ASSIGNMENT))
    expected = {key: sqlite_cells[("alice_correct", *key[1:])] if key[0] == "bob_partial" else value
                for key, value in sqlite_cells.items()}
    assert {k: v for k, v in expected.items() if k[0] == "bob_partial"} != \
        {k: v for k, v in sqlite_cells.items() if k[0] == "bob_partial"}
    manual = sorted(key for key, (auto, _, needs) in expected.items() if needs)
    assert len({student for student, _, _ in manual}) >= 2, manual
    stop, out = tmp_path / "stop", tmp_path / "ta.json"
    ta = subprocess.Popen([sys.executable, "-c", TA, url, json.dumps(manual), str(stop), str(out)],
                          env=hw_env(None), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)  # the TA is at work before the autograder records anything
        assert ta.poll() is None, ta.stdout.read()
        done = subprocess.run([str(BIN / "hw"), "autograde", ASSIGNMENT, "--force", "--workers", "2"],
                              cwd=course.root, env=hw_env(url), capture_output=True, text=True, timeout=900)
    finally:
        stop.touch()
        ta_output = ta.communicate(timeout=300)[0]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert ta.returncode == 0, ta_output[-3000:]
    assert "lock" not in (done.stdout + done.stderr).lower(), done.stdout[-3000:] + done.stderr[-3000:]
    written = json.loads(out.read_text())
    assert written["errors"] == [], written["errors"][:3]  # no lock error, no lost connection
    assert written["rounds"] >= 10, written["rounds"]

    after = cells(url)
    assert after.keys() == expected.keys()
    from nbgrader.api import Gradebook

    with Gradebook(url, "deep-learning-hw") as gb:
        comments = {(s.student.id, n.name, c.name): c.manual_comment
                    for s in gb.assignment_submissions(ASSIGNMENT) for n in s.notebooks for c in n.comments}
    for key, (auto, manual_score, needs) in after.items():
        assert auto == expected[key][0], key  # every autograded score recorded
        if key in manual:
            score, comment = written["last"]["|".join(key)]
            assert (manual_score, needs, comments[key]) == (score, False, comment), key  # the TA's last word
        else:
            assert (manual_score, needs) == expected[key][1:], key

    hw(course, url, "export")
    with open(course.root / "grades.csv", newline="") as handle:
        wide = {row["student"]: row for row in csv.DictReader(handle)}
    for student in {s for s, _, _ in sqlite_cells}:
        mine = {k: v for k, v in after.items() if k[0] == student}
        expected = sum((manual if manual is not None else auto or 0) for auto, manual, _ in mine.values())
        assert float(wide[student][ASSIGNMENT]) == pytest.approx(expected), (student, wide[student])
        assert wide[student]["pending_manual"] == "", wide[student]
