"""Release: nbgrader generate_assignment, then strip solutions from .py files as well
(nbgrader copies them unchanged), leaving stubs that raise NotImplementedError."""
from __future__ import annotations

import re
from pathlib import Path

from hwtools import nbgrader_bridge
from hwtools.course import Course

_SOLUTION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)",
                       re.MULTILINE | re.DOTALL)
STUB = 'raise NotImplementedError("complete this part (see the docstring)")'
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def strip_solutions(text: str) -> str:
    """Each ``### BEGIN/END SOLUTION`` region becomes one stub line at the region's indent."""
    return _SOLUTION.sub(lambda m: f"{m.group('indent')}# YOUR CODE HERE\n{m.group('indent')}{STUB}\n", text)


def release_assignment(course: Course, assignment: str, api=None) -> Path:
    """Generate release/<assignment> and the gradebook entry; returns the release folder."""
    api = api or nbgrader_bridge.api(course.root)
    nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True),
                            f"generate_assignment {assignment}")
    target = course.release / assignment
    for py in sorted(target.rglob("*.py")):
        py.write_text(strip_solutions(py.read_text(encoding="utf-8")), encoding="utf-8")
    leaks = [str(p) for p in target.rglob("*") if p.is_file() and any(
        m in p.read_text(encoding="utf-8", errors="ignore") for m in FORBIDDEN_MARKERS)]
    if leaks:
        raise RuntimeError(f"release of {assignment} still holds solution or hidden-test markers: {leaks}")
    return target


def release_all(course: Course, assignments: list[str] | None = None) -> list[Path]:
    api = nbgrader_bridge.api(course.root)
    return [release_assignment(course, a, api) for a in (assignments or course.assignments())]
