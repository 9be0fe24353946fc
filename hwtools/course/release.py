"""Release: nbgrader generate_assignment, then strip solutions from .py files as well
(nbgrader copies them unchanged), leaving stubs that raise NotImplementedError."""
from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from hwtools.course import nbgrader_bridge
from hwtools.course import Course

_SOLUTION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)",
                       re.MULTILINE | re.DOTALL)
STUB = 'raise NotImplementedError("complete this part (see the docstring)")'
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def strip_solutions(text: str) -> str:
    """Each ``### BEGIN/END SOLUTION`` region becomes one stub line at the region's indent."""
    return _SOLUTION.sub(lambda m: f"{m.group('indent')}# YOUR CODE HERE\n{m.group('indent')}{STUB}\n", text)


# What never belongs in a release, whatever an instructor's source folder holds: grade exports,
# gradebooks, grading state and feedback (a TA's `hw export` run in the wrong folder left the
# class's grades in source/<assignment>/, and nbgrader copies every file of it). A course adds
# its own patterns with c.HwRelease.deny = [...] in nbgrader_config.py.
DENIED = ("grades*.csv", "*grades_long*.csv", "*.db", "*.db-journal", "*.sqlite", "*.sqlite3", "gradebook*",
          ".hw-grade-*", "submitted", "autograded", "feedback", "reports", "class_summary*.html")


class ReleaseRefused(RuntimeError):
    """The source folder holds something that must not reach students; nothing was released."""


def _denied_patterns(course: Course) -> tuple[str, ...]:
    extra = nbgrader_bridge.course_config(course.root).HwRelease.get("deny", [])
    return (*DENIED, *extra)


def unexpected_files(course: Course, assignment: str) -> list[str]:
    """Files of source/<assignment> that must not be released: matching a denied pattern, or
    named after a student of the course (a submission or a student's export copied there)."""
    source = course.source / assignment
    patterns = _denied_patterns(course)
    students = [s for s in (p.name for p in course.submitted.iterdir() if p.is_dir()) if len(s) >= 3] \
        if course.submitted.is_dir() else []
    found, covered = [], set()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(parent in covered for parent in relative.parents):
            continue  # (inside a folder named already)
        covered.add(relative)
        if any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in patterns):
            found.append(f"{relative} (class data: grades, a gradebook or grading output)")
        elif any(student in part for part in relative.parts for student in students):
            found.append(f"{relative} (named after a student of the course)")
        else:
            covered.discard(relative)
    return found


def release_assignment(course: Course, assignment: str, api=None) -> Path:
    """Generate release/<assignment> and the gradebook entry; returns the release folder.
    Refuses, releasing nothing, when the source holds what must not reach students."""
    unexpected = unexpected_files(course, assignment)
    if unexpected:
        raise ReleaseRefused(f"release of {assignment} refused: source/{assignment}/ holds {', '.join(unexpected)}; "
                             "move it out of source/ (nothing was released)")
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
