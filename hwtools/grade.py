"""Grade one submission end to end, without touching anything shared.

1. execute: nbgrader autograde in a sandboxed scratch course (``execute_submission``);
2. hidden checks: the assignment's hidden suite on the executed files (``hidden_runner``);
3. merge: nbgrader's scores for its own cells, the hidden suite's for the hidden groups, and
   the check reports written into the hidden cells' outputs for the feedback.

The result is plain data plus a folder of autograded files; ``gradebook_writer`` is the
single writer that records it.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from hwtools import budget, gradebook_writer, hidden_runner, sandbox, warm
from hwtools.course import Course
from hwtools.execute_submission import GRADEBOOK, prepare_scratch_course

HIDDEN_PREFIX = "hidden_"
FAILURE_CELL_ID = "hw-autograder-note"
PROCESS_LIMIT_MESSAGE = ("the notebook tried to run more than {} processes and threads at once (a fork bomb, or "
                         "processes started in a loop) and was stopped")


def submission_fingerprint(course: Course, assignment: str, student: str) -> str:
    """Changes when the submission, the assignment's source or its hidden suite change."""
    digest = hashlib.sha256()
    for base in (course.submission_dir(student, assignment), course.source / assignment,
                 course.hidden_tests / assignment):
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def _zero_reason(score: float, checks: list[dict]) -> str:
    """Why a submission that ran earned nothing: the most common first line of its failures."""
    messages = [c["message"].splitlines()[0] for c in checks if not c["passed"] and c["message"]]
    if score > 0 or not messages:
        return ""
    return max(set(messages), key=messages.count)[:200]


def explain_failure(execution: dict, submitted: Path) -> str:
    """A sentence a student understands for why the notebook could not be graded."""
    text = execution.get("error", "") + execution.get("log", "")
    if not any(submitted.glob("*.ipynb")):
        return "no notebook was submitted"
    if execution.get("process_limit_hit"):
        return PROCESS_LIMIT_MESSAGE.format(sandbox.Limits().max_tasks)
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return ("the notebook's kernel died while running (os._exit, a crash, or the memory limit); "
                "nothing after that point could run")
    if "NotJSONError" in text or "does not appear to be JSON" in text or "Unreadable Notebook" in text \
            or "ValidationError" in text or "JSONDecodeError" in text:
        return "the notebook file is corrupt (not a valid Jupyter notebook) and could not be opened"
    if "Timeout" in text or "timed out" in text:
        return "the notebook ran past its time limit"
    return f"the notebook could not be run by the autograder: {_last_line(text)}"


def _run_execution(course: Course, assignment: str, student: str, scratch: Path, timeout_s: float) -> dict:
    if not course.submission_dir(student, assignment).is_dir():
        return {"success": False, "error": "no submission folder", "log": ""}
    prepare_scratch_course(course.root, assignment, student, scratch)
    (scratch / "home").mkdir()
    env = sandbox.scrubbed_env(scratch / "home", dict(sandbox.thread_env(1), HW_MODE=budget.grading_mode()))
    with (scratch / "execution.log").open("w") as log:
        process = sandbox.popen([sys.executable, "-I", "-m", "hwtools.execute_submission", assignment, student,
                                 str(scratch)], cwd=scratch, writable=scratch, hidden=sandbox.course_secrets(course.root),
                                limits=sandbox.Limits(), env=env, stdout=log, stderr=subprocess.STDOUT)
        timed_out, too_many, deadline = False, False, time.monotonic() + timeout_s
        while process.poll() is None and not timed_out:
            timed_out = time.monotonic() > deadline
            # a fork bomb is stopped at once: the kernel dies, the cells graded before it keep their points
            too_many = too_many or sandbox.stop_bomb(process)
            time.sleep(0.2)
    too_many = too_many or sandbox.hit_process_limit(process)
    sandbox.kill_group(process)  # anything the kernel left behind
    path = scratch / "execution.json"
    if timed_out:
        execution = {"success": False, "error": f"Timeout: the submission ran past {timeout_s:g} s in total", "log": ""}
    elif not path.is_file():
        execution = {"success": False, "error": f"the grading process ended with code {process.returncode}",
                     "log": (scratch / "execution.log").read_text(errors="replace")[-3000:]}
    else:
        execution = json.loads(path.read_text())
    execution["process_limit_hit"] = too_many
    return execution


def _assignment_cells(course: Course, assignment: str) -> dict:
    """Grade cells of each notebook (name -> max points, manual?) as released, from the
    course's gradebook (read only: the submission cannot have touched it)."""
    cells = {}
    with gradebook_writer.open_gradebook(course) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            cells[notebook.name] = {c.name: {"max_score": c.max_score, "manual": c.cell_type == "markdown"}
                                    for c in notebook.grade_cells}
    return cells


def _nbgrader_scores(course: Course, scratch: Path, assignment: str, student: str) -> dict:
    """nbgrader's scores for its own cells, from the scratch gradebook (data only: the scratch
    folder's config file was writable by the submission, so it is never executed)."""
    from nbgrader.api import Gradebook

    from hwtools.nbgrader_bridge import course_config

    course_id = course_config(course.root).CourseDirectory.course_id
    scores = {}
    with Gradebook(f"sqlite:///{scratch / GRADEBOOK}", course_id) as gb:
        for notebook in gb.find_submission(assignment, student).notebooks:
            for grade in notebook.grades:
                scores[(notebook.name, grade.name)] = (grade.auto_score, grade.needs_manual_grade)
    return scores


def _readable_notebook(path: Path):
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:
        return None


def _annotate(notebook, reports: dict, note: str | None) -> None:
    """Hidden cells' outputs become their check reports; a failure note goes on top."""
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in reports and cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=reports[grade_id])]
    if note:
        cell = nbformat.v4.new_markdown_cell(f"**Autograder:** {note}")
        cell["id"] = FAILURE_CELL_ID
        notebook.cells.insert(0, cell)


def grade_submission(root: str, assignment: str, student: str, timeout_s: float = 1800) -> dict:
    """Grade one submission; returns plain data and the folder of its autograded files."""
    course = Course(Path(root))
    started, waited = time.monotonic(), warm.waited()
    sandbox.warm_up()  # its imports overlap with preparing the scratch course
    scratch = sandbox.make_scratch(f"grade-{student}-")
    submitted = course.submission_dir(student, assignment)
    cells = _assignment_cells(course, assignment)
    execution = _run_execution(course, assignment, student, scratch, timeout_s)
    executed_at = time.monotonic()
    if execution["success"] and not (scratch / GRADEBOOK).is_file():
        execution = {"success": False, "error": "the notebook deleted the autograder's files while it ran", "log": ""}
    executed_dir = scratch / "course" / "autograded" / student / assignment
    failure = None if execution["success"] else explain_failure(execution, submitted)
    warning = PROCESS_LIMIT_MESSAGE.format(sandbox.Limits().max_tasks) \
        if execution["success"] and execution.get("process_limit_hit") else None
    if failure:
        note = (f"{failure}. Parts that needed the notebook to run score zero; hidden tests of your other files "
                "ran separately and are reported below.")
    else:
        note = warning and f"{warning}; its cells were graded as they ran."
    files_dir = executed_dir if execution["success"] else scratch / "submitted-copy"
    if not execution["success"]:
        shutil.copytree(submitted, files_dir, dirs_exist_ok=True) if submitted.is_dir() else files_dir.mkdir()
    hidden = hidden_runner.run_hidden_suite(course, assignment, files_dir, timeout_s)
    # the wait for a warm server still importing is the machine's start, not this submission's
    # time (which orders the next run's tasks, longest first)
    server_wait = warm.waited() - waited
    timings = {"execute": round(executed_at - started, 1), "hidden": round(time.monotonic() - executed_at, 1),
               "server_wait": round(server_wait, 1)}
    totals = hidden_runner.group_totals(hidden["checks"])
    nb_scores = _nbgrader_scores(course, scratch, assignment, student) if execution["success"] else {}

    grades, reports = [], {}
    for notebook, notebook_cells in cells.items():
        for name, cell in notebook_cells.items():
            if name.startswith(HIDDEN_PREFIX):
                total = totals.get(name, {"earned": 0.0, "points": 0.0, "checks": []})
                reports[name] = hidden_runner.group_report(name, total, cell["max_score"], hidden["status"])
                score, manual = min(total["earned"], cell["max_score"]), False
            elif (notebook, name) in nb_scores:
                score, manual = nb_scores[(notebook, name)]
            elif cell["manual"] and _readable_notebook(submitted / f"{notebook}.ipynb") is not None:
                score, manual = None, True  # the notebook could not run, but a TA can read its answers
            else:
                score, manual = 0.0, False
            grades.append({"notebook": notebook, "name": name, "auto_score": score,
                           "needs_manual_grade": manual, "max_score": cell["max_score"]})

    output_dir = scratch / "result"
    for notebook in cells:
        target = output_dir / f"{notebook}.ipynb"
        candidates = [executed_dir / f"{notebook}.ipynb", submitted / f"{notebook}.ipynb",
                      course.release / assignment / f"{notebook}.ipynb"]
        nb = next((n for n in map(_readable_notebook, candidates) if n is not None), None)
        if nb is None:
            continue
        _annotate(nb, reports, note)
        output_dir.mkdir(exist_ok=True)
        nbformat.write(nb, str(target))
    if files_dir.is_dir():
        for path in files_dir.iterdir():
            if path.is_file() and path.suffix != ".ipynb" and path.stat().st_size < 50 * 1024 * 1024:
                output_dir.mkdir(exist_ok=True)
                shutil.copy(path, output_dir / path.name)

    score = sum(g["auto_score"] or 0 for g in grades)
    manual_max = sum(g["max_score"] for g in grades if g["needs_manual_grade"])
    return {"student": student, "assignment": assignment, "status": "failed" if failure else "graded",
            "reason": failure or warning or _zero_reason(score, hidden["checks"]), "score": score,
            "max_score": sum(g["max_score"] for g in grades), "manual_pending": manual_max,
            "grades": grades, "checks": hidden["checks"], "hidden_status": hidden["status"],
            "fingerprint": submission_fingerprint(course, assignment, student),
            "seconds": round(time.monotonic() - started - server_wait, 1), "timings": timings,
            "autograded_files": str(output_dir), "scratch": str(scratch)}
