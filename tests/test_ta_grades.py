"""What a TA reads after grading agrees with the gradebook (issue 20, items 3, 4 and 5), run with
the hw command as the README shows it, on a course copy whose batchnorm class is graded once:

- 3: grades.csv, grades_long.csv and `hw report` show the gradebook's scores, a TA's manual
  points included, and mark the points still to grade by hand;
- 4: `hw export --lms canvas|moodle|plain` writes what those LMSs import;
- 5: `hw export`, `hw feedback` and `hw report` before any grading say what is missing and what
  to run, exit 1 and write nothing.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_course
from hwtools.course.sample_class import build_sample_class

BIN = Path(sys.executable).parent
HOSTILE = "=1+1"  # a student id a spreadsheet would evaluate


def hw(course, *args, ok: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(BIN / "hw"), *args], cwd=cwd or course.root, env=env, capture_output=True, text=True,
                          timeout=600)
    if ok:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def grade_by_hand(course, student: str, scores: dict[str, float], extra_credit: dict[str, float] | None = None) -> None:
    """What the formgrader does when a TA scores a written answer (nbgrader's GradeHandler.put):
    SCORES in the score boxes, EXTRA_CREDIT in the extra-credit boxes (a bonus question's points,
    its score box left empty)."""
    from hwtools.course.gradebook_writer import open_gradebook

    extra_credit = extra_credit or {}
    with open_gradebook(course) as gb:
        for cell in {**scores, **extra_credit}:
            grade = gb.find_grade(cell, "batchnorm", "batchnorm", student)
            grade.manual_score, grade.extra_credit = scores.get(cell), extra_credit.get(cell)
            grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gb.db.commit()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("ta_grades"))
    hw(course, "release", "batchnorm")
    build_sample_class(course, ["batchnorm"])
    hw(course, "autograde", "batchnorm", "--students", "alice_correct", "bob_partial", HOSTILE, "--missing-as-zero",
       "--workers", "2")
    return course


def test_csvs_report_and_scores_follow_the_gradebook_manual_points_included(graded):
    from hwtools.course.export import gradebook_scores

    course = graded
    hw(course, "export")
    wide = {r["student"]: r for r in rows(course.root / "grades.csv")}
    assert (wide["alice_correct"]["batchnorm"], wide["alice_correct"]["pending_manual"]) == ("15.0", "batchnorm: 2")
    assert (wide["bob_partial"]["batchnorm"], wide["bob_partial"]["pending_manual"]) == ("5.0", "batchnorm: 1")
    hw(course, "report", "batchnorm")
    page = (course.root / "reports" / "class_summary.html").read_text()
    assert "Still to grade by hand: 2 submission(s), 3 points" in page and "alice_correct (2)" in page

    # (a) answer_eps is the seed's bonus question: 0 points, what it earns is extra credit
    grade_by_hand(course, "alice_correct", {"answer_batch_of_one": 0.5}, extra_credit={"answer_eps": 1.0})
    assert gradebook_scores(course, "batchnorm", ["alice_correct"]) == {"alice_correct": (16.5, 16.0, 0.0)}
    assert gradebook_scores(course, "batchnorm", ["alice_correct"])["alice_correct"].shown() == "16.5/16"
    assert gradebook_scores(course, "batchnorm", ["bob_partial"])["bob_partial"].shown() == "5/16 (1 to grade by hand)"
    exported = hw(course, "export").stdout
    assert "1 student(s) have points still to grade by hand" in exported
    wide = {r["student"]: r for r in rows(course.root / "grades.csv")}
    assert (wide["alice_correct"]["batchnorm"], wide["alice_correct"]["total"]) == ("16.5", "16.5")
    assert wide["alice_correct"]["pending_manual"] == ""
    long = {(r["student"], r["cell"]): r for r in rows(course.root / "grades_long.csv")}
    assert (long[("alice_correct", "answer_batch_of_one")]["score"], long[("alice_correct", "answer_eps")]["graded_by"]) \
        == ("0.5", "TA")
    assert long[("bob_partial", "answer_eps")]["graded_by"] == "pending (to grade by hand)"
    hw(course, "report", "batchnorm")
    page = (course.root / "reports" / "class_summary.html").read_text()
    assert "Still to grade by hand: 1 submission(s), 1 points" in page and "alice_correct (" not in page
    assert "mean 7.17 of 16 points" in page  # (16.5 + 5 + 0) / 3: the gradebook's, not the autograder's 6.67


@pytest.mark.parametrize("lms, id_column", [("canvas", "SIS Login ID"), ("moodle", "username"),
                                            ("plain", "student_id")])
def test_lms_export_is_a_row_per_student_with_points_possible_beside_it(graded, lms, id_column):
    course = graded
    out = hw(course, "export", "--lms", lms).stdout
    assert f"grades_{lms}.csv" in out
    with open(course.root / f"grades_{lms}.csv", newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    assert id_column in header and "batchnorm" in header
    ids = [row[header.index(id_column)] for row in body]
    assert sorted(ids) == sorted(["alice_correct", "bob_partial", "'" + HOSTILE])  # one row each, no (max) row
    assert not [cell for row in table for cell in row if cell[:1] in ("=", "+", "@")]  # nothing a sheet evaluates
    scores = {row[header.index(id_column)]: row[header.index("batchnorm")] for row in body}
    assert float(scores["bob_partial"]) == 5.0
    points = {r["assignment"]: r for r in rows(course.root / "points_possible.csv")}
    assert points["batchnorm"]["points_possible"] == "16.0" and "bob_partial: 1" in points["batchnorm"]["pending_manual"]
    if lms == "canvas":  # Canvas makes an assignment of every column it does not know: only its own and ours
        assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "batchnorm"]
    else:
        pending = {row[header.index(id_column)]: row[header.index("pending_manual")] for row in body}
        assert pending["bob_partial"] == "batchnorm: 1"


def test_before_any_grading_hw_says_what_to_run_and_writes_nothing(course):
    done = hw(course, "export", ok=False)
    assert done.returncode == 1 and "hw: nothing to export: no assignment is in the gradebook yet; run `hw release`" \
        in done.stderr
    hw(course, "release", "batchnorm")
    (course.submission_dir("zed", "batchnorm")).mkdir(parents=True)
    for args, message in [
            (["export"], "hw: nothing to export: no submission of batchnorm is graded yet; run `hw autograde` first"),
            (["report", "batchnorm"], "hw: no report: no submission of batchnorm is graded yet; run `hw autograde`"),
            (["feedback", "batchnorm"], "batchnorm: not graded yet, so no feedback for zed: run `hw autograde "
                                        "batchnorm` first"),
            (["feedback", "gradcam"], "gradcam is not in the gradebook yet: run `hw release gradcam`")]:
        done = hw(course, *args, ok=False, cwd=course.source / "batchnorm")
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
    assert not list(course.root.glob("grades*.csv")) and not (course.root / "reports").exists()
    assert not course.feedback.exists()


def test_the_autograde_summary_shows_the_gradebook_after_manual_grading(graded):
    """`hw autograde --force` after a TA graded the written answers prints the gradebook's
    score (16.5/16: 15 + 0.5 + a bonus point), not the autograded part with the answers still 'to grade by hand'."""
    course = graded
    grade_by_hand(course, "alice_correct", {"answer_batch_of_one": 0.5}, extra_credit={"answer_eps": 1.0})
    out = hw(course, "autograde", "batchnorm", "--students", "alice_correct", "--force", "--workers", "1").stdout
    line = next(line for line in out.splitlines() if line.startswith("alice_correct "))
    assert "16.5/16" in line and "to grade by hand" not in line, out[-2000:]
    kept = hw(course, "autograde", "batchnorm", "--students", "alice_correct", "--workers", "1").stdout
    line = next(line for line in kept.splitlines() if line.startswith("alice_correct "))
    assert "16.5/16" in line and "(kept)" in line, kept[-2000:]
