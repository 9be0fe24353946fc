"""Seconds to autograde one submission (the reference solution) of each assignment, end to
end through nbgrader, in the grade budget (or HW_MODE=ci). Usage:
    python benchmarks/grade_one.py [assignment ...]
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    from conftest import copy_course, submit_source_solution
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all

    os.environ.setdefault("HW_DATA", "auto")
    scratch = Path(tempfile.mkdtemp(prefix="hw-bench-"))
    course = copy_course(scratch / "course")
    assignments = sys.argv[1:] or course.assignments()
    release_all(course, assignments)
    print(f"mode={os.environ.get('HW_MODE', 'full')} (submissions run in the grading mode), cores={os.cpu_count()}")
    for assignment in assignments:
        submit_source_solution(course, assignment)
        started = time.monotonic()
        [result] = autograde(course, assignment, ["reference_solution"], workers=1)
        total = time.monotonic() - started
        print(f"{assignment:18s} grade one submission: {result.seconds:6.1f} s in the worker, "
              f"{total:6.1f} s with cluster start and feedback; score {result.score:g}/{result.max_score:g}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
