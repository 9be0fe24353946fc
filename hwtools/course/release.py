"""Release: nbgrader generate_assignment, then strip solutions from .py files as well
(nbgrader copies them unchanged), leaving stubs that raise NotImplementedError.

Before anything is written, a release is refused (one line saying what to fix) when the source
holds class data, a solution or hidden-test marker that is misspelled or unbalanced, hidden
grade cells whose points differ from their hidden suite's checks, or a notebook that differs
from what its ``authoring/build_<assignment>.py`` builds. After, any marker left in the release
(a leak) removes what was written and puts the previous release back. ``release_problem`` tells
the autograder when the gradebook's entry is older than the source (graded against stale points).
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import re
import shutil
import tempfile
from pathlib import Path

from hwtools.course import gradebook_writer, nbgrader_bridge
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


MARKER_KINDS = ("SOLUTION", "HIDDEN TESTS")
_MARKER = re.compile(r"^[ \t]*### (?P<word>BEGIN|END) (?P<kind>SOLUTION|HIDDEN TESTS)[ \t]*$")
_LIKE_A_MARKER = re.compile(r"^[ \t]*#+[ \t]*(?P<word>[A-Za-z]+)[ \t]+(?P<kind>[A-Za-z]+(?:[ \t]+[A-Za-z]+)?)[ \t]*$")


def _source_texts(folder: Path):
    """(path, text) of every .py file and every notebook cell of FOLDER, where markers go."""
    import nbformat

    for path in sorted(folder.rglob("*")):
        if path.suffix == ".py" and path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")
        elif path.suffix == ".ipynb" and path.is_file() and ".ipynb_checkpoints" not in path.parts:
            for cell in nbformat.read(str(path), as_version=4).cells:
                yield path, cell.source


def marker_problem(text: str) -> str | None:
    """Why the ``### BEGIN/END SOLUTION`` and ``### BEGIN/END HIDDEN TESTS`` markers of TEXT
    (a file or a cell) cannot be stripped safely, naming the line, or None: a line that looks
    like a marker but is not one (``### END SOLUTON``), an END without its BEGIN, or a BEGIN
    never ended (the solution would be released, or the code after it stripped)."""
    opened = None
    for number, line in enumerate(text.splitlines(), 1):
        exact = _MARKER.match(line)
        if not exact:
            like = _LIKE_A_MARKER.match(line)
            if like and difflib.get_close_matches(like["word"].upper(), ("BEGIN", "END"), cutoff=0.6) and \
                    (kind := difflib.get_close_matches(like["kind"].upper(), MARKER_KINDS, n=1, cutoff=0.75)):
                word = difflib.get_close_matches(like["word"].upper(), ("BEGIN", "END"), n=1, cutoff=0.6)[0]
                return f"line {number} `{line.strip()}` is not a marker (`### {word} {kind[0]}`?)"
            continue
        word, kind = exact["word"], exact["kind"]
        if word == "BEGIN":
            if opened:
                return f"line {number} `### BEGIN {kind}` comes before line {opened[1]}'s `### BEGIN {opened[0]}` ended"
            opened = (kind, number)
        elif not opened or opened[0] != kind:
            return f"line {number} `### END {kind}` ends no `### BEGIN {kind}`"
        else:
            opened = None
    if opened:
        return f"line {opened[1]} `### BEGIN {opened[0]}` is never ended (no `### END {opened[0]}` after it)"
    return None


def source_marker_problems(course: Course, assignment: str) -> list[str]:
    """One line per file of source/<assignment> whose markers cannot be stripped safely."""
    found = {}
    for path, text in _source_texts(course.source / assignment):
        problem = marker_problem(text)
        if problem and path not in found:
            found[path] = f"{path.relative_to(course.root)} {problem}"
    return list(found.values())


def _grade_cells(course: Course, assignment: str) -> dict[str, float]:
    """grade_id -> points of every grade cell of the source notebooks."""
    import nbformat

    cells = {}
    for path in sorted((course.source / assignment).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id"):
                cells[meta["grade_id"]] = float(meta.get("points", 0) or 0)
    return cells


def hidden_points_problems(course: Course, assignment: str) -> list[str]:
    """Hidden grade cells (``hidden_<group>``) whose points differ from the points of their
    hidden suite's checks (``@pytest.mark.points(n, group=...)``), a line each: grading caps a
    group at its cell's points, so a check added to a group without its cell is never counted."""
    from hwtools.grading.hidden_runner import collected_checks, group_totals, hidden_suite_dir

    if not hidden_suite_dir(course, assignment).is_dir():
        return []
    cells = {name: points for name, points in _grade_cells(course, assignment).items() if name.startswith("hidden_")}
    suite = {group: total["points"] for group, total in
             group_totals([dict(c, earned=0) for c in collected_checks(course, assignment)]).items()}
    problems = []
    for group in sorted(set(cells) | set(suite)):
        if group not in suite:
            problems.append(f"{group}: its grade cell gives {cells[group]:g} points and no hidden check has "
                            f"group=\"{group}\" (does the suite still collect? `pytest --collect-only "
                            f"tests/hidden/{assignment}`)")
        elif group not in cells:
            problems.append(f"{group}: the hidden checks give {suite[group]:g} points and the notebook has no grade "
                            "cell of that name")
        elif abs(cells[group] - suite[group]) > 1e-9:
            problems.append(f"{group}: the hidden checks give {suite[group]:g} points, its grade cell "
                            f"{cells[group]:g}")
    return problems


def authoring_problem(course: Course, assignment: str) -> str | None:
    """Whether source/<assignment>'s notebook is what authoring/build_<assignment>.py builds
    (the builder is the one source of truth where there is one), as a sentence, or None."""
    from hwtools.course.authoring import write_notebook

    builder = course.root / "authoring" / f"build_{assignment}.py"
    notebooks = sorted((course.source / assignment).glob("*.ipynb"))
    if not builder.is_file() or len(notebooks) != 1:
        return None
    spec = importlib.util.spec_from_file_location(f"_hw_build_{assignment}", builder)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # (builders write only under `if __name__ == "__main__"`)
    if not hasattr(module, "CELLS"):
        return None
    with tempfile.TemporaryDirectory(prefix="hw-authoring-") as scratch:
        built = Path(scratch) / assignment / notebooks[0].name
        built.parent.mkdir()
        write_notebook(built, module.CELLS)
        if built.read_bytes() == notebooks[0].read_bytes():
            return None
    return (f"{notebooks[0].relative_to(course.root)} is not what {builder.relative_to(course.root)} builds: edit the "
            f"builder and run `python {builder.relative_to(course.root)}` (or `make notebooks`), then release again")


def release_problem(course: Course, assignment: str) -> str | None:
    """Why ASSIGNMENT must not be graded against its gradebook entry, as a sentence naming the
    command that fixes it, or None: the entry is older than the source (a grade cell added,
    removed or given other points since the last `hw release`)."""
    from nbgrader.api import MissingEntry

    source = _grade_cells(course, assignment)
    with gradebook_writer.open_gradebook(course) as gb:
        try:
            recorded = {cell.name: float(cell.max_score) for notebook in gb.find_assignment(assignment).notebooks
                        for cell in notebook.grade_cells}
        except MissingEntry:
            return f"{assignment} is not in the gradebook yet: run `hw release {assignment}` first"
    changed = [f"{name}: {recorded[name]:g} points in the gradebook, {source[name]:g} in source/{assignment}"
               for name in sorted(set(source) & set(recorded)) if abs(source[name] - recorded[name]) > 1e-9]
    changed += [f"{name} is new in source/{assignment}" for name in sorted(set(source) - set(recorded))]
    changed += [f"{name} is gone from source/{assignment}" for name in sorted(set(recorded) - set(source))]
    if not changed:
        return None
    return (f"the gradebook's {assignment} is older than source/{assignment} ({'; '.join(changed)}): run "
            f"`hw release {assignment}` (and commit release/), then grade again")


def _refused(assignment: str, what: str) -> ReleaseRefused:
    return ReleaseRefused(f"release of {assignment} refused: {what} (nothing was released)")


def check_source(course: Course, assignment: str) -> None:
    """ReleaseRefused, with everything to fix in one line, unless the source can be released."""
    unexpected = unexpected_files(course, assignment)
    if unexpected:
        raise _refused(assignment, f"source/{assignment}/ holds {', '.join(unexpected)}; move it out of source/")
    markers = source_marker_problems(course, assignment)
    if markers:
        raise _refused(assignment, "; ".join(markers) + "; fix the marker")
    points = hidden_points_problems(course, assignment)
    if points:
        raise _refused(assignment, f"hidden points disagree: {'; '.join(points)}; make each grade cell's points the "
                                   "sum of its group's @pytest.mark.points")
    authoring = authoring_problem(course, assignment)
    if authoring:
        raise _refused(assignment, authoring)


def _leaks(target: Path) -> list[str]:
    """'FILE (MARKER)' for each released file still holding a solution or hidden-test marker."""
    found = []
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="ignore")
        markers = [m for m in FORBIDDEN_MARKERS if m in text]
        if markers:
            found.append(f"{path.relative_to(target.parent.parent)} ({', '.join(markers)})")
    return found


# nbgrader's own refusals, and what a course does about them
GRADED_CELLS_FIXED = ("the gradebook already holds submissions of this assignment, graded against its released "
                      "cells: a graded assignment cannot gain or lose grade cells (nbgrader keeps every grade "
                      "tied to its cell); release the changed notebook under a new assignment name, or first "
                      "delete the recorded grades with `nbgrader db assignment remove ASSIGNMENT --force`")
NBGRADER_REFUSALS = {"Cannot add or remove cells": GRADED_CELLS_FIXED,
                     "Cannot modify existing assignment": GRADED_CELLS_FIXED}


def nbgrader_reason(log: str) -> str:
    """The one line of a failed nbgrader step's log that says why: its exception's message
    (nbgrader's last line only says to see the traceback above), with what to do where the
    refusal is one of nbgrader's known ones."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): ", line)]
    reason = (raised or lines or ["no log"])[-1]
    for known, advice in NBGRADER_REFUSALS.items():
        if known in log:
            return f"{reason.split(': ', 1)[-1] if raised else reason} ({advice})"
    return reason


def release_assignment(course: Course, assignment: str, api=None) -> Path:
    """Generate release/<assignment> and the gradebook entry; returns the release folder.
    Refuses, releasing nothing, when the source cannot be released (``check_source``); a
    release still holding a marker is removed and the previous one put back."""
    check_source(course, assignment)
    api = api or nbgrader_bridge.api(course.root)
    target = course.release / assignment
    with tempfile.TemporaryDirectory(prefix="hw-previous-release-") as scratch:
        previous = Path(scratch) / assignment
        if target.is_dir():
            shutil.copytree(target, previous, symlinks=True)
        try:
            try:
                nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True),
                                        f"generate_assignment {assignment}")
            except nbgrader_bridge.NbgraderFailed as err:
                raise ReleaseRefused(f"release of {assignment} failed in nbgrader: {nbgrader_reason(str(err))}; "
                                     f"release/{assignment}/ is as it was") from None
            for py in sorted(target.rglob("*.py")):
                py.write_text(strip_solutions(py.read_text(encoding="utf-8")), encoding="utf-8")
            leaks = _leaks(target)
            if leaks:
                raise ReleaseRefused(f"release of {assignment} refused: {'; '.join(leaks)} would reach students; "
                                     f"removed what was written, release/{assignment}/ is as it was")
        except BaseException:
            if target.exists():
                shutil.rmtree(target)
            if previous.is_dir():
                shutil.copytree(previous, target, symlinks=True)
            raise
    return target


def release_all(course: Course, assignments: list[str] | None = None) -> list[Path]:
    api = nbgrader_bridge.api(course.root)
    return [release_assignment(course, a, api) for a in (assignments or course.assignments())]
