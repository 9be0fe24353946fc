"""Execute one submission with nbgrader in a scratch course of its own (run sandboxed).

The grader first copies the assignment's source and the student's files into SCRATCH/course
(``prepare_scratch_course``); then ``python -I -m hwtools.execute_submission ASSIGNMENT
STUDENT SCRATCH``, in the sandbox, creates a scratch gradebook, runs nbgrader autograde and
writes SCRATCH/execution.json. The real course, its gradebook and the other students' files
are never in reach of the student's kernel.
"""
from __future__ import annotations

import json
import shutil
import sys
import traceback
from pathlib import Path

from hwtools import nbgrader_bridge


def prepare_scratch_course(root: Path, assignment: str, student: str, scratch: Path) -> Path:
    course = scratch / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "source" / assignment, course / "source" / assignment)
    shutil.copytree(root / "submitted" / student / assignment, course / "submitted" / student / assignment,
                    symlinks=False, ignore_dangling_symlinks=True)
    return course


def execute(assignment: str, student: str, scratch: Path) -> dict:
    course = scratch / "course"
    api = nbgrader_bridge.api(course, root=str(course), db_url=f"sqlite:///{scratch / 'scratch-gradebook.db'}")
    nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    result = api.autograde(assignment, student, force=True, create=True)
    return {"success": bool(result.get("success")), "log": (result.get("log") or "")[-6000:],
            "error": (result.get("error") or "")[-3000:]}


def main() -> None:
    assignment, student, scratch = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    try:
        outcome = execute(assignment, student, scratch)
    except Exception:
        outcome = {"success": False, "log": "", "error": traceback.format_exc()[-3000:]}
    (scratch / "execution.json").write_text(json.dumps(outcome))


if __name__ == "__main__":
    main()
