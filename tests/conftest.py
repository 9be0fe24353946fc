"""Shared fixtures: a throwaway copy of the course, so tests never touch the repository's
gradebook, submitted/ or feedback/ and do not depend on the working directory."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwtools.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE_PARTS = ("nbgrader_config.py", "source", "release", "tests/hidden", "examples")

os.environ.setdefault("HW_MODE", "ci")
os.environ.setdefault("HW_DATA", "fixture")


def copy_course(target: Path) -> Course:
    for part in COURSE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, target / part, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target / part)
    return Course(target)


def hidden_suite_environment(course: Course) -> dict:
    """The environment a hidden suite runs with: a one-check suite of the course (its name
    ``envdump``) writes ``os.environ`` where the grader reads it back."""
    import json

    from hwtools import sandbox
    from hwtools.grading import hidden_runner

    files = sandbox.make_scratch("test-files-")
    seen = files / "environment.json"
    suite = course.hidden_tests / "envdump"
    suite.mkdir(parents=True)
    (suite / "test_envdump.py").write_text(f"import json, os\n\ndef test_dump():\n"
                                           f"    open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))\n")
    assert hidden_runner.run_hidden_suite(course, "envdump", files, timeout_s=120)["status"] == "ok"
    return json.loads(seen.read_text())


@pytest.fixture(scope="session")
def repo() -> Course:
    return Course(REPO)


@pytest.fixture
def course(tmp_path) -> Course:
    return copy_course(tmp_path / "course")


@pytest.fixture(scope="session")
def session_course(tmp_path_factory) -> Course:
    return copy_course(tmp_path_factory.mktemp("course"))


@contextlib.contextmanager
def dask_processes(folder: Path, workers: int):
    """``dask scheduler`` and ``dask worker --nworkers N --nthreads 1 --preload-nanny
    hwtools.sandbox.dask_nanny`` as their own processes on this machine, as a course starts them
    (README, "A cluster"). Yields (the scheduler file, the worker command's process)."""
    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([dask, "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
                                   "--dashboard-address", ":0"], **quiet)]
    try:
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.read_text().strip():
                break
            time.sleep(0.1)
        processes.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers",
                                           str(workers), "--nthreads", "1", "--preload-nanny", "hwtools.sandbox.dask_nanny"],
                                          **quiet))
        yield scheduler_file, processes[-1]
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=60)


def fixture_path(*parts: str) -> Path:
    return REPO / "tests" / "fixtures" / Path(*parts)


def submit_folder(course: Course, assignment: str, student: str, folder: Path) -> Path:
    """Put a folder in place as the student's submission (nbgrader layout) and return it."""
    target = course.submission_dir(student, assignment)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return target


def submit_source_solution(course: Course, assignment: str, student: str = "reference_solution") -> Path:
    """The instructor's solution submitted as a student's work: it must score full marks."""
    return submit_folder(course, assignment, student, course.source / assignment)


def submit_release(course: Course, assignment: str, student: str = "untouched_release") -> Path:
    """The release handed in untouched: it must score zero."""
    return submit_folder(course, assignment, student, course.release / assignment)


def grade_class(tmp_path_factory, assignment: str, *, samples: bool = True, release: bool = False,
                cell_timeout: int | None = None) -> tuple[Course, dict]:
    """Autograde, end to end, a course copy's class for one assignment: the source solution as
    ``reference_solution``, the sample students (carol_stub is the untouched release) and, when
    asked, the release as ``untouched_release``. Returns the course and results by student."""
    with pytest.MonkeyPatch.context() as patch:
        if cell_timeout:
            patch.setenv("HW_CELL_TIMEOUT", str(cell_timeout))
        course = copy_course(tmp_path_factory.mktemp(f"{assignment}_class"))
        from hwtools.course.autograde import autograde
        from hwtools.course.release import release_all
        from hwtools.course.sample_class import build_sample_class

        release_all(course, [assignment])
        submit_source_solution(course, assignment)
        if release:
            submit_release(course, assignment)
        if samples:
            build_sample_class(course, [assignment])
        results = autograde(course, assignment, workers=2)
    return course, {r.student: r for r in results}


def executed_copy(source: Path, notebook: str, target: Path) -> Path:
    """A copy of an assignment folder after running its notebook top to bottom (ci budget):
    the artifacts a reference submission leaves for the hidden suite."""
    import nbformat
    from nbclient import NotebookClient

    shutil.copytree(source, target)
    executed = nbformat.read(str(target / notebook), as_version=4)
    NotebookClient(executed, timeout=600, allow_errors=True, resources={"metadata": {"path": str(target)}}).execute()
    nbformat.write(executed, str(target / notebook))
    return target


def suite_result(course: Course, assignment: str, folder: Path) -> dict:
    """The hidden suite's checks on a folder, with the score, the failed check ids and messages."""
    from hwtools.grading.hidden_runner import run_hidden_suite

    result = run_hidden_suite(course, assignment, folder, timeout_s=600)
    assert result["status"] == "ok", result
    result["score"] = sum(c["earned"] for c in result["checks"])
    result["failed"] = {c["id"] for c in result["checks"] if not c["passed"]}
    result["messages"] = {c["id"]: c["message"] for c in result["checks"]}
    return result


class SuffixedModule:
    """One sandboxed module holding several variants of a student's functions, each renamed
    ``name__suffix`` (one process for all variants keeps the tests fast); seen through one
    variant's names, as the checks call it."""

    def __init__(self, module, suffix: str):
        self.module, self.suffix = module, suffix

    def call(self, name, *args, **kwargs):
        return self.module.call(f"{name}__{self.suffix}", *args, **kwargs)


def suffixed(code: str, names: tuple, suffix: str) -> str:
    """The code with each of these functions renamed ``name__suffix``."""
    for name in names:
        code = code.replace(f"def {name}(", f"def {name}__{suffix}(")
    return code


def load_hidden_module(course: Course, relative_path: str, name: str):
    """A hidden suite's test file imported as a module, so the project's tests can call its
    checks and references directly (on fixtures they build) without running pytest on it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, course.root / relative_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failed_checks(hidden, names, **arguments) -> set:
    """Names of a hidden suite's checks (functions of the module ``hidden``) that fail when
    called directly with these fixture values, each taking the arguments it names."""
    from hwtools.checks import CheckFailure

    failed = set()
    for name in names:
        check = getattr(hidden, name)
        wanted = check.__code__.co_varnames[:check.__code__.co_argcount]
        try:
            check(**{k: v for k, v in arguments.items() if k in wanted})
        except CheckFailure:
            failed.add(name)
    return failed


def mutated_cells(cells: dict, changes: dict) -> dict:
    """CELLS (grade_id -> source) with each (text, replacement) of CHANGES applied; a text
    missing from its cell fails the test (the mutation would test nothing)."""
    cells = dict(cells)
    for grade_id, replacements in changes.items():
        for old, new in replacements:
            assert old in cells[grade_id], f"mutation target {old!r} not in cell {grade_id}"
            cells[grade_id] = cells[grade_id].replace(old, new)
    return cells


def grade_filled_release(course: Course, assignment: str, notebook: str, folder: Path, cells: dict | None,
                         timeout_s: float) -> dict:
    """The hidden suite on the release notebook with these cells filled in (None: untouched):
    the score, the checks and the ids of those that failed."""
    from hwtools.course.sample_class import fill_cells
    from hwtools.grading.hidden_runner import run_hidden_suite

    folder.mkdir(parents=True)
    shutil.copy(course.release / assignment / notebook, folder)
    if cells is not None:
        fill_cells(folder / notebook, cells)
    result = run_hidden_suite(course, assignment, folder, timeout_s=timeout_s)
    assert result["status"] == "ok", result
    return {"score": sum(c["earned"] for c in result["checks"]), "checks": result["checks"],
            "failed": {c["id"] for c in result["checks"] if not c["passed"]}}


def grade_variants(course: Course, assignment: str, notebook: str, variants: dict, root: Path,
                   timeout_s: float) -> dict:
    """Every variant (name -> cells, or None) graded once by ``grade_filled_release``, two at a
    time (each run is its own process)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {name: pool.submit(grade_filled_release, course, assignment, notebook, root / name, cells, timeout_s)
                for name, cells in variants.items()}
        return {name: run.result() for name, run in runs.items()}

