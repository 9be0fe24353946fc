"""The TA walkthrough of the README, run as written with the hw command on a course copy."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from conftest import copy_course
from hwtools.course.sample_class import build_sample_class

BIN = Path(sys.executable).parent


def hw(course, *args) -> str:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(BIN / "hw"), *args], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_ta_walkthrough(tmp_path):
    course = copy_course(tmp_path / "course")
    assert "released release/batchnorm" in hw(course, "release", "batchnorm")
    build_sample_class(course, ["batchnorm"])
    summary = hw(course, "autograde", "batchnorm", "--students", "alice_correct", "carol_stub", "--workers", "2")
    assert "alice_correct  batchnorm   15/16" in summary and "NotImplementedError" in summary
    hw(course, "feedback", "batchnorm", "--students", "alice_correct")
    assert (course.feedback / "alice_correct" / "batchnorm" / "batchnorm.html").is_file()
    hw(course, "export")
    grades = pd.read_csv(course.root / "grades.csv")
    assert list(grades.columns) == ["student", "batchnorm", "total", "pending_manual"]
    assert grades.set_index("student").loc["alice_correct", "total"] == 15
    long = pd.read_csv(course.root / "grades_long.csv")
    assert {"student", "assignment", "notebook", "cell", "score", "max_score", "needs_manual_grade"} <= set(long.columns)
    hw(course, "report", "batchnorm")
    assert "data:image/png;base64," in (course.root / "reports" / "class_summary.html").read_text()
    assert "not in the gradebook yet" in subprocess.run(
        [str(BIN / "hw"), "autograde", "cnn_arithmetic", "--students", "alice_correct"], cwd=course.root, capture_output=True, text=True,
        env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"), timeout=300).stderr
