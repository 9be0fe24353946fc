"""Run an assignment's hidden suite on one submission's files and total its points per group.

The suite runs in a fresh interpreter that never imports student code (student functions
are reached through ``hwtools.grading.student``), so the comparison and the points are safe from
whatever the submission patches.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from hwtools import budget, sandbox
from hwtools.checks import GRADER_ERROR_MESSAGE
from hwtools.grading.results import checked_metrics

from hwtools.sandbox import warm
from hwtools.course import Course

# The suite loads its one plugin (hwtools.grading.hidden_suite) by name; the installed ones (nbval,
# anyio, ...) would cost each submission seconds of imports.
NO_PLUGIN_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def hidden_suite_dir(course: Course, assignment: str) -> Path:
    return course.hidden_tests / assignment


def run_hidden_suite(course: Course, assignment: str, files_dir: Path, timeout_s: float,
                     student: str | None = None) -> dict:
    """Checks (id, group, points, earned, description, message), the metrics the suite measured
    (``hidden_suite.record_metric``) and a status for the run. STUDENT: the id of the student
    graded, from the grader's task; a suite of per-student variants draws the student's numbers
    from it (``hwtools.variants``), and without it refuses to guess."""
    suite = hidden_suite_dir(course, assignment)
    if not suite.is_dir():
        return {"status": "no hidden suite", "checks": [], "metrics": {}}
    with tempfile.TemporaryDirectory(prefix="hw-hidden-") as scratch:
        results = Path(scratch) / "results.json"
        args = ["-c", str(course.hidden_tests / "pytest.ini"), "--rootdir", str(course.hidden_tests),
                "--import-mode=importlib", str(suite), "--hw-submission", str(files_dir), "--hw-results", str(results)]
        if student is not None:
            args.append(f"--hw-student={student}")  # one argument, whatever the id looks like
        # one thread per sum, as in the kernel: the suite's numbers (the saved model's predictions,
        # torch's references) are the same on every worker, whatever its cores
        env = sandbox.grader_env(PYTHONDONTWRITEBYTECODE="1", **sandbox.thread_env(1), HW_COURSE_ROOT=str(course.root),
                                 HW_MODE=budget.grading_mode(), **NO_PLUGIN_AUTOLOAD)
        with tempfile.TemporaryFile() as output:
            process = sandbox.start_module("pytest", args, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                           stdout=output, stderr=subprocess.STDOUT)
            try:
                code = process.wait(timeout=timeout_s)
                status = "ok" if code in (0, 1) else f"hidden suite exited with code {code}"
            except subprocess.TimeoutExpired:
                status = f"hidden suite timed out after {timeout_s:g} s"
            sandbox.kill_group(process)  # the suite and anything it left running in its session
            sandbox.sweep_stale_scratch()  # the bounded folders of the student workers it left
            if getattr(process, "server_died", False):
                raise warm.ServerDied("the warm server died while it ran the hidden suite: grade it again")
            output.seek(0)
            log = output.read()[-8000:].decode(errors="replace")
        written = json.loads(results.read_text()) if results.is_file() else {}
    return {"status": status, "checks": written.get("checks", []), "metrics": checked_metrics(written.get("metrics")),
            "log": log}


def collected_checks(course: Course, assignment: str) -> list[dict]:
    """Every check of the suite with its points and group, without running anything."""
    suite = hidden_suite_dir(course, assignment)
    with tempfile.TemporaryDirectory(prefix="hw-collect-") as scratch:
        plugin = Path(scratch) / "hw_collect_points.py"
        out = Path(scratch) / "points.json"
        plugin.write_text(
            "import json\n"
            "def pytest_collection_modifyitems(session, config, items):\n"
            "    rows = [{'id': i.nodeid.split('::')[-1], 'group': m.kwargs['group'], 'points': float(m.args[0])}\n"
            "            for i in items for m in [i.get_closest_marker('points')] if m]\n"
            f"    open({str(out)!r}, 'w').write(json.dumps(rows))\n")
        env = dict(os.environ, PYTHONPATH=scratch, HW_COURSE_ROOT=str(course.root), **NO_PLUGIN_AUTOLOAD)
        subprocess.run([sys.executable, "-m", "pytest", "-c", str(course.hidden_tests / "pytest.ini"),
                        "--rootdir", str(course.hidden_tests), "--import-mode=importlib",
                        "-p", "hw_collect_points", "--collect-only", str(suite)],
                       cwd=scratch, env=env, capture_output=True, check=False)
        return json.loads(out.read_text()) if out.is_file() else []


def group_totals(checks: list[dict]) -> dict[str, dict]:
    """Points earned and possible per group (= per hidden grade cell)."""
    totals = defaultdict(lambda: {"earned": 0.0, "points": 0.0, "checks": []})
    for check in checks:
        total = totals[check["group"]]
        total["earned"] += check["earned"]
        total["points"] += check["points"]
        total["checks"].append(check)
    return dict(totals)


def group_report(group: str, total: dict, max_points: float, status: str = "ok") -> str:
    """The text a student reads in the feedback for one hidden grade cell. A check the grader
    could not run (``grader_error``) is neither PASS nor FAIL: its line says so, and its detail
    stays with the TA (``grader_errors``). Its frame and the checks' titles are in the course's
    feedback language (``hwtools.grading.messages``), and so are the failure messages the catalogue
    has a template for (those of ``hwtools.checks`` and the kit); the [PASS]/[FAIL] marks stay as
    they are."""
    from hwtools.grading.messages import gettext as _, translate

    lines = [_("Hidden tests {group}: {earned} / {max_points} points").format(
        group=group, earned=f"{total['earned']:g}", max_points=f"{max_points:g}")]
    for check in total["checks"]:
        if check.get("grader_error"):
            lines.append(f"  [NOT CHECKED] {_(check['description'])} ({check['earned']:g}/{check['points']:g}): "
                         f"{_(GRADER_ERROR_MESSAGE)}")
            continue
        mark = "PASS" if check["passed"] else "FAIL"
        lines.append(f"  [{mark}] {_(check['description'])} ({check['earned']:g}/{check['points']:g})")
        if check["message"]:
            lines.extend("         " + translate(line) for line in check["message"].splitlines())
    ran = sum(c["points"] for c in total["checks"])
    if ran < max_points:
        lines.append("  " + _("{points} points of checks did not run: {status}").format(
            points=f"{max_points - ran:g}", status=status))
    return "\n".join(lines) + "\n"


def grader_errors(checks: list[dict]) -> list[str]:
    """One line per check the grader could not run because its own code or reference raised
    (``grader_error``), for the TA: the check, its group and points, the exception and where
    it was raised. Failed checks are not listed: those are the student's."""
    return [f"{check['id']} ({check['group']}, {check['points']:g} points not awarded): "
            f"{check.get('grader_detail') or 'no detail recorded'}"
            for check in checks if check.get("grader_error")]
