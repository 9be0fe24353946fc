"""Execute one submission with nbgrader in a scratch course of its own (run sandboxed).

The grader first copies the assignment's source and the student's files into SCRATCH/course,
and a copy of the assignment's gradebook template (``prepare_scratch_course``); then ``python
-I -m hwtools.execute_submission ASSIGNMENT STUDENT SCRATCH``, in the sandbox, runs nbgrader
autograde against that scratch gradebook and writes SCRATCH/execution.json. The real course, its gradebook and the other students' files
are never in reach of the student's kernel.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from hwtools import nbgrader_bridge, warm_kernel

GRADEBOOK = "scratch-gradebook.db"


def _copy_source(root: Path, assignment: str, course: Path) -> None:
    (course / "source").mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "source" / assignment, course / "source" / assignment)


def gradebook_template(root: Path, assignment: str) -> Path:
    """A scratch gradebook holding the assignment's cells (nbgrader generate_assignment on its
    source), made once per version of the source and copied for each submission: making one
    costs seconds (nbgrader runs alembic), copying it nothing. Kept under the scratch root,
    which no sandbox sees."""
    from hwtools import sandbox

    digest = hashlib.sha256((root / "nbgrader_config.py").read_bytes())
    source = root / "source" / assignment
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    template = sandbox.SCRATCH_ROOT / "gradebooks" / f"{assignment}-{digest.hexdigest()[:20]}.db"
    if not template.is_file():
        work = sandbox.make_scratch("gradebook-")
        _copy_source(root, assignment, work / "course")
        api = nbgrader_bridge.api(work / "course", root=str(work / "course"), db_url=f"sqlite:///{work / 'new.db'}")
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
        template.parent.mkdir(exist_ok=True)
        os.replace(work / "new.db", template)  # atomic: a worker building the same one at once is harmless
        shutil.rmtree(work, ignore_errors=True)
    return template


def prepare_scratch_course(root: Path, assignment: str, student: str, scratch: Path) -> Path:
    course = scratch / "course"
    _copy_source(root, assignment, course)
    shutil.copytree(root / "submitted" / student / assignment, course / "submitted" / student / assignment,
                    symlinks=False, ignore_dangling_symlinks=True)
    shutil.copy(gradebook_template(root, assignment), scratch / GRADEBOOK)
    return course


def execute(assignment: str, student: str, scratch: Path) -> dict:
    course = scratch / "course"
    api = nbgrader_bridge.api(course, root=str(course), db_url=f"sqlite:///{scratch / GRADEBOOK}")
    started = time.monotonic()
    if not (scratch / GRADEBOOK).is_file():  # the grader copies a template in; made here only without one
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    generated = time.monotonic()
    result = api.autograde(assignment, student, force=True, create=True)
    return {"success": bool(result.get("success")), "log": (result.get("log") or "")[-6000:],
            "error": (result.get("error") or "")[-3000:],
            "phases": {"generate": round(generated - started, 2), "autograde": round(time.monotonic() - generated, 2)}}


def main() -> None:
    # jsonschema compiles an RFC 3987 grammar on import (~1.2 s here) for its "iri" formats, which
    # no notebook schema uses and which it checks only when asked to; this process imports
    # everything afresh for each submission, so it goes without.
    sys.modules.setdefault("rfc3987_syntax", None)
    assignment, student, scratch = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    # forked from the warm server, this process has the kernels' libraries: fork them from it
    if "ipykernel.kernelapp" in sys.modules and warm_kernel.suits(list((scratch / "course" / "submitted").rglob("*.ipynb"))):
        warm_kernel.install(warm_kernel.KernelForker())
    try:
        outcome = execute(assignment, student, scratch)
    except Exception:
        outcome = {"success": False, "log": "", "error": traceback.format_exc()[-3000:]}
    (scratch / "execution.json").write_text(json.dumps(outcome))


if __name__ == "__main__":
    main()
