"""pytest plugin that runs a hidden suite against one submission and writes its points.

Used as ``pytest -p hwtools.grading.hidden_suite tests/hidden/<assignment> --hw-submission DIR
--hw-results FILE [--hw-student ID]`` (the id of the student graded, for suites that grade
per-student variants). Each check is a test marked ``@pytest.mark.points(n, group=...)``; a
group is one hidden grade cell of the assignment's notebook. Only a check's docstring (its
name for students) and its failure message are recorded, never its code or traceback.

Whose fault a failure is decides what is recorded (issue 19, item 3). The grader's process never
runs student code, so a check fails for the student only with a ``CheckFailure`` (a rule the
work breaks, raised by the checks and the kit) or a ``StudentCodeProblem`` (the student's code
crashed, hung or raised). Any other exception was raised by the grader's own code or reference
(torch, scikit-learn, a check's own bug): the check is recorded with ``"grader_error": True``,
earns nothing, tells the student "the grader could not check this; your TA has been told", and
keeps the exception and where it was raised in ``grader_detail`` for the TA.

A check that measures the student's model itself (test accuracy on the grader's held-out images,
AUC, R^2) records the number with ``record_metric``; it goes into the results beside the checks
and, through the driver, into the grading state that ``hw leaderboard`` reads. Only the grader's
process records: student code never runs in it, so no submission can write a metric.
"""
from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import numpy as np
import pytest

from hwtools import seeding
from hwtools.checks import FLAGGED, GRADER_ERROR_MESSAGE, CheckFailure
from hwtools.grading.results import METRIC_NAME
from hwtools.grading.student import StudentCodeProblem, StudentModule

MAX_MESSAGE = 1500
_METRICS: dict[str, float] = {}  # this run's (one pytest run grades one submission)


def record_metric(name: str, value: float) -> None:
    """Record a number this grader measured on the submission's work (never one the submission
    reported), e.g. ``record_metric("test_accuracy", accuracy)``, before its threshold is checked:
    a model below the threshold is ranked too. A name is lower case, digits and ``_``."""
    if not METRIC_NAME.match(name):
        raise ValueError(f"a metric's name is lower case, digits and _ (at most 40 characters): {name!r}")
    value = float(value)
    if math.isfinite(value):
        _METRICS[name] = value


def pytest_addoption(parser):
    group = parser.getgroup("hwtools hidden suite")
    group.addoption("--hw-submission", help="folder with the submission's files (after execution)")
    group.addoption("--hw-results", help="JSON file the points are written to")
    group.addoption("--hw-student", help="the id of the student graded (the grader's, never the submission's)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n, group): points of a hidden check and its grade cell")
    config._hw_checks = []


@pytest.fixture(scope="session")
def submission_dir(pytestconfig) -> Path:
    value = pytestconfig.getoption("--hw-submission")
    if not value:
        raise pytest.UsageError("--hw-submission is required")
    return Path(value).resolve()


@pytest.fixture(scope="session")
def student_id(pytestconfig) -> str:
    """Who is graded, as the grader passed it (``hwtools.variants`` draws their numbers from it)."""
    value = pytestconfig.getoption("--hw-student")
    if not value:
        raise pytest.UsageError("--hw-student is required by this suite (the student's variant)")
    return value


@pytest.fixture(scope="session")
def student_modules():
    opened: dict[tuple, StudentModule] = {}
    yield opened
    for module in opened.values():
        module.close()


@pytest.fixture(scope="session")
def student(submission_dir, student_modules):
    """``student("forward_batchnorm.py", timeout_s=...)``: the sandboxed proxy of that file."""
    def open_module(filename: str, **options) -> StudentModule:
        key = (filename, tuple(sorted(options.items())))
        if key not in student_modules:
            student_modules[key] = StudentModule(submission_dir / filename, **options)
        return student_modules[key]
    return open_module


@pytest.fixture
def rng(request) -> np.random.Generator:
    """Fresh random inputs for each check, reproducible for the run's seed."""
    return np.random.default_rng([seeding.grading_seed(), zlib.crc32(request.node.nodeid.encode())])


def is_grader_error(err: BaseException) -> bool:
    """True when the exception is the grader's, not the student's (see the module's docstring)."""
    return not isinstance(err, (CheckFailure, StudentCodeProblem))


def _message(err: BaseException) -> str:
    if isinstance(err, StudentCodeProblem):
        text = f"your code: {err}"
    else:
        text = str(err) or "the check failed"
    return text[:MAX_MESSAGE]


def _grader_detail(excinfo) -> str:
    """The exception and the frames of the suite (and the kit) that raised it, for the TA."""
    err = excinfo.value
    frames = []
    for entry in excinfo.traceback:
        path = str(entry.path)
        if "/tests/hidden/" in path or "/hwtools/" in path:
            frames.append(f"{Path(path).name}:{entry.lineno + 1} in {entry.name}")
    where = f" (raised in {' <- '.join(reversed(frames[-3:]))})" if frames else ""
    return f"{type(err).__name__}: {err}"[:MAX_MESSAGE] + where


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("points")
    if marker is None or not (report.when == "call" or report.failed):
        return
    checks = item.config._hw_checks
    if any(c["nodeid"] == item.nodeid for c in checks):
        return  # a teardown after a recorded call
    points = float(marker.args[0])
    doc = (item.obj.__doc__ or item.name).strip().splitlines()[0]
    check = {
        "id": item.nodeid.split("::")[-1], "nodeid": item.nodeid, "group": marker.kwargs["group"],
        "points": points, "description": doc, "passed": report.passed,
        "earned": points if report.passed else 0.0, "message": "" if report.passed else "failed",
    }
    err = call.excinfo.value if call.excinfo is not None else None
    if not report.passed and err is not None:
        if is_grader_error(err):
            check.update(grader_error=True, message=GRADER_ERROR_MESSAGE, grader_detail=_grader_detail(call.excinfo))
        elif report.when == "setup" and not str(err).startswith(FLAGGED):
            # a fixture the check needs broke a rule (or the student's code failed there): the
            # check itself never ran, and says so
            check["message"] = f"not run: {_message(err)}"[:MAX_MESSAGE]
        else:
            check["message"] = _message(err)
    checks.append(check)
    _write(item.config)


def _write(config) -> None:
    path = config.getoption("--hw-results")
    if path:
        Path(path).write_text(json.dumps({"seed": seeding.grading_seed(), "checks": config._hw_checks,
                                           "metrics": _METRICS}, indent=1))


def pytest_sessionfinish(session):
    _write(session.config)
