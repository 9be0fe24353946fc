"""Grade one submission end to end, in a worker, from what the driver sent (``GradingTask``
and the course bundle, ``hwtools.grading.task``), without touching anything shared. The steps
(``_grade``; docs/architecture.md draws them):

1. ``_sandboxed_run``: the submission written into the scratch as sent (regular files only),
   what its notebook makes itself removed; nbgrader autograde in a sandboxed scratch course
   (``execute_submission``), which may write one bounded folder only; what it left copied out
   as regular files only, no link followed, each under a size cap;
2. ``_score_nbgrader_cells``: nbgrader's cells scored here from the executed notebook against
   the released grade cells (never the scratch gradebook, which the kernel can write), capped;
3. the hidden suite on that copy (``hidden_runner``);
4. ``_review_flags`` and ``_merge_grades``: what a TA should look at (entries left out, scores
   claimed above a cell's points, cells missing or duplicated, structural changes); each grade
   cell's score;
5. ``_autograded_notebooks``: the check reports written into the hidden cells' outputs and a
   note on top, for the feedback.

The result (``SubmissionResult``) is plain data, the autograded files included (name -> bytes,
under the caps of ``gradebook_writer.kept_files``); the scratch is deleted before it returns,
and ``gradebook_writer`` in the driver is the single writer that records it.
"""
from __future__ import annotations

import copy
import errno
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from hwtools import budget, sandbox, variants

from hwtools.course import gradebook_writer

from hwtools.grading import hidden_runner

from hwtools.sandbox import warm
from hwtools.checks import FLAGGED
from hwtools.course import Course
from hwtools.grading import task as task_data
from hwtools.grading.execute_submission import GRADEBOOK, prepare_scratch_course, remove_produced_files
from hwtools.grading.results import CellGrade, CheckResult, SubmissionResult
from hwtools.grading.task import CourseBundle, GradingTask, course_bundle, read_submission, unpacked
from hwtools.sandbox.untrusted_files import copy_regular_tree, fresh_folder, read_regular, regular_entry

HIDDEN_PREFIX = "hidden_"
GRADER_PROCESS_ENDED = "the grading process ended with code"
DISK_FULL_MESSAGE = "the notebook filled the {} MB its run may write (HW_SCRATCH_MB)"
FAILURE_CELL_ID = "hw-autograder-note"
EXECUTION_JSON_BYTES = 1024 * 1024
NOTEBOOK_BYTES = gradebook_writer.RESULT_NOTEBOOK_BYTES
LOG_TAIL_CHARS = 3000
log = logging.getLogger(__name__)


def submission_fingerprint(course: Course, assignment: str, student: str) -> str:
    """Changes when the submission or what grading reads of the course changes (in the driver;
    ``hw autograde`` reuses the bundle it builds once)."""
    return task_data.fingerprint(read_submission(course, assignment, student),
                                 course_bundle(course, assignment).digest)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def _zero_reason(score: float, checks: list[dict]) -> str:
    """Why a submission that ran earned nothing: the most common first line of its failures."""
    messages = [c["message"].splitlines()[0] for c in checks
                if not c["passed"] and c["message"] and not c.get("grader_error")]  # (those are the grader's)
    if score > 0 or not messages:
        return ""
    return max(set(messages), key=messages.count)[:200]


def _submitted_format_problem(submitted: Path) -> str | None:
    """Why a submitted notebook that is valid JSON is no notebook nbgrader opens (nbformat 5,
    no cells), read as a regular file (no link followed, size capped); None otherwise."""
    from hwtools.grading.nbgrader_plugins import notebook_format_problem

    for name in sorted(os.listdir(submitted)):
        if not name.endswith(".ipynb") or not regular_entry(submitted, name):
            continue
        try:
            raw = json.loads(read_regular(submitted, name, NOTEBOOK_BYTES))
        except (OSError, ValueError):
            continue  # not JSON: the notebook file is corrupt, said below
        problem = notebook_format_problem(raw)
        if problem:
            return problem
    return None


def _exception_line(text: str) -> str:
    """The last exception nbgrader's log names (not nbgrader's own "see the above traceback"),
    else its last line."""
    import re

    found = [m.group(1) for m in re.finditer(r"(?m)^\s*((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Entry|Exit)\b"
                                             r"(?::[^\n]*)?)$", text)
             if "NbGraderException" not in m.group(1)]
    return found[-1].strip()[:300] if found else _last_line(text)


def explain_failure(execution: dict, submitted: Path) -> str:
    """A sentence a student understands for why the notebook could not be graded (SUBMITTED:
    the grader's copy of the submission)."""
    text = execution.get("error", "") + execution.get("log", "")
    if execution.get("refused"):
        return execution["refused"]
    if not any(p.name.endswith(".ipynb") and regular_entry(submitted, p.name) for p in
               (submitted.iterdir() if submitted.is_dir() and not submitted.is_symlink() else ())):
        return "no notebook was submitted"
    problem = _submitted_format_problem(submitted)
    if problem:
        return problem
    if execution.get("process_limit_hit"):
        return sandbox.process_limit_message("the notebook")
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return ("the notebook's kernel died while running (os._exit, a crash, or the memory limit); "
                "nothing after that point could run")
    if "SchemaTooNewError" in text or "SchemaTooOldError" in text:
        return ("the nbgrader metadata of the notebook's cells was changed (a schema version nbgrader does not "
                "know); hand in the released notebook with your answers, its cells' metadata untouched")
    if "nbgrader metadata may be corrupted" in text or "nbgraderformat" in text or "MissingEntry" in text:
        return ("the nbgrader metadata of the notebook's cells was changed and nbgrader could not grade it "
                f"({_exception_line(text)}); hand in the released notebook with your answers, its cells' metadata "
                "untouched")
    if "NotJSONError" in text or "does not appear to be JSON" in text or "Unreadable Notebook" in text \
            or "ValidationError" in text or "JSONDecodeError" in text:
        return "the notebook file is corrupt (not a valid Jupyter notebook) and could not be opened"
    if "Timeout" in text or "timed out" in text:
        return "the notebook ran past its time limit"
    if execution.get("error", "").startswith(GRADER_PROCESS_ENDED):
        return ("the autograder's process running the notebook was killed (a signal sent from the notebook, "
                "or the memory limit); nothing after that point could run")
    return f"the notebook could not be run by the autograder: {_exception_line(text)}"


def _log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The end of the grader's log of the sandboxed run (a regular file, opened without
    following a link; only its tail is read, however long the run made it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(fd, max(0, info.st_size - 4 * chars), os.SEEK_SET)
        return os.read(fd, 4 * chars).decode(errors="replace")[-chars:]
    finally:
        os.close(fd)


def _checked_execution(raw: bytes) -> dict:
    """execution.json as written in the sandbox: only the expected keys, of the expected types."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {"success": False, "error": "the grading process left an unreadable execution.json", "log": ""}
    text = {key: data.get(key) if isinstance(data.get(key), str) else "" for key in ("log", "error")}
    return {"success": data.get("success") is True, "log": text["log"][-6000:], "error": text["error"][-3000:]}


def _run_execution(course: Course, assignment: str, student: str, scratch: Path, box: Path, intake: Path,
                   timeout_s: float) -> dict:
    """Run nbgrader on the submission in the sandbox, which may write BOX only; the log file is
    the grader's, outside it."""
    prepare_scratch_course(course.root, assignment, student, box, submission=intake)
    (box / "home").mkdir()
    # the kernel shows the student their own variant (hwtools.variants); the hidden suite takes the id from the task
    env = sandbox.scrubbed_env(box / "home", dict(sandbox.thread_env(1), HW_MODE=budget.grading_mode(),
                                                  **{variants.STUDENT_VARIABLE: student}))
    log_path = scratch / "execution.log"
    with log_path.open("w") as log_file:
        process = sandbox.popen([sys.executable, "-I", "-m", "hwtools.grading.execute_submission", assignment, student,
                                 str(box)], cwd=box, writable=box, hidden=course.secrets(),
                                limits=sandbox.Limits(), env=env, stdout=log_file, stderr=subprocess.STDOUT)
        timed_out, too_many, deadline = False, False, time.monotonic() + timeout_s
        while process.poll() is None and not timed_out:
            timed_out = time.monotonic() > deadline
            # a fork bomb is stopped at once: the kernel dies, the cells graded before it keep their points
            too_many = too_many or sandbox.stop_bomb(process)
            time.sleep(0.2)
    too_many = too_many or sandbox.hit_process_limit(process)
    sandbox.kill_group(process)  # anything the kernel left behind
    if getattr(process, "server_died", False):
        raise warm.ServerDied("the warm server died while it ran this submission: grade it again")
    if timed_out:
        execution = {"success": False, "error": f"Timeout: the submission ran past {timeout_s:g} s in total", "log": ""}
    else:
        try:
            execution = _checked_execution(read_regular(box, "execution.json", EXECUTION_JSON_BYTES))
        except FileNotFoundError:
            execution = {"success": False, "error": f"{GRADER_PROCESS_ENDED} {process.returncode}",
                         "log": _log_tail(log_path)}
        except OSError as err:
            execution = {"success": False, "error": f"the grading process's execution.json was refused: {err}",
                         "log": _log_tail(log_path)}
    execution["process_limit_hit"] = too_many
    return execution


def _score_cell(cell, name: str, released: dict, where: str, flags: list[str]) -> tuple[float | None, bool]:
    """nbgrader's rule (``determine_grade``) for one executed grade cell, with the points,
    type and flags of the released cell, never the notebook's own metadata; capped at 0..max."""
    from nbgrader.utils import determine_grade

    maximum = float(released["max_score"])
    claimed = cell.get("metadata", {}).get("nbgrader", {}).get("points")
    try:
        claimed_points = float(claimed)
    except (TypeError, ValueError):
        claimed_points = None
    if claimed_points != maximum:
        flags.append(f"{where}: grade cell {name} claims {claimed!r} points in the notebook; it is worth {maximum:g}")
    if cell.get("cell_type") != released["cell_type"]:
        flags.append(f"{where}: grade cell {name} is a {cell.get('cell_type')} cell; it was released as "
                     f"{released['cell_type']}; scored 0")
        return 0.0, False
    probe = copy.deepcopy(cell)
    probe["metadata"] = nbformat.from_dict({"nbgrader": {
        "grade": True, "solution": released["solution"], "locked": released["locked"], "grade_id": name,
        "points": maximum, "checksum": released["checksum"]}})
    probe.setdefault("source", "")
    if probe["cell_type"] == "code":
        probe.setdefault("outputs", [])
    try:
        score, _ = determine_grade(probe, log)
    except ValueError:  # nbgrader: "partial credit cannot be greater than maximum points for cell"
        flags.append(f"{where}: grade cell {name} output a score above its {maximum:g} points; capped at {maximum:g}")
        score = maximum
    except Exception as err:
        flags.append(f"{where}: grade cell {name} could not be scored ({type(err).__name__}); scored 0")
        score = 0.0
    if score is None:
        return None, True
    score = float(score)
    if not 0 <= score <= maximum:
        flags.append(f"{where}: grade cell {name} scored {score:g} outside 0..{maximum:g}; capped")
        score = min(max(score, 0.0), maximum)
    return score, False


def _notebook_scores(notebook: str, nb, released_cells: dict, flags: list[str]) -> dict:
    """(notebook, cell) -> (score, needs manual grade) for the released grade cells that
    nbgrader scores (all but the hidden suite's), from one executed notebook."""
    scores, where = {}, f"{notebook}.ipynb"
    by_id: dict[str, list] = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            by_id.setdefault(meta["grade_id"], []).append(cell)
    for name, released in released_cells.items():
        if name.startswith(HIDDEN_PREFIX):
            continue
        found = by_id.get(name, [])
        if not found:
            flags.append(f"{where}: grade cell {name} is missing from the executed notebook; scored 0")
            scores[(notebook, name)] = (0.0, False)
            continue
        if len(found) > 1:
            flags.append(f"{where}: grade cell {name} appears {len(found)} times; the lowest score counts")
        results = [_score_cell(cell, name, released, where, flags) for cell in found]
        if any(score is None for score, _ in results):
            scores[(notebook, name)] = (None, True)
        else:
            scores[(notebook, name)] = (min(score for score, _ in results), False)
    return scores


def _read_notebook(folder: Path, notebook: str):
    """A notebook of a folder, read as a regular file (no link followed, size capped), or None."""
    try:
        return nbformat.reads(read_regular(folder, f"{notebook}.ipynb", NOTEBOOK_BYTES).decode(), as_version=4)
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


def _files_for_feedback(files_dir: Path, flags: list[str]) -> dict[str, bytes]:
    """The files beside the notebook (not in subfolders) that go with the feedback, read
    without following links, under the caps of ``gradebook_writer.kept_files``; a line in
    FLAGS for each one left out."""
    files = {}
    for name in sorted(os.listdir(files_dir)):
        if name.endswith(".ipynb") or not regular_entry(files_dir, name):
            continue
        try:
            files[name] = read_regular(files_dir, name, gradebook_writer.RESULT_FILE_BYTES)
        except OSError as err:
            why = f"is over the {gradebook_writer.RESULT_FILE_BYTES // gradebook_writer.MB} MB kept for the feedback" \
                if err.errno == errno.EFBIG else f"could not be read ({err})"
            flags.append(f"left out of the autograded files: {name} {why}")
    kept, left_out = gradebook_writer.kept_files(files)
    flags += left_out
    return kept


def _execute_and_collect(course: Course, task: GradingTask, scratch: Path, box: Path) -> tuple[dict, list[str]]:
    """Write the submission sent with TASK into SCRATCH/submitted-copy, run it in the sandbox
    (which writes BOX only), and copy what it left into SCRATCH/files; returns the execution and
    the flags."""
    assignment, student = task.assignment, task.student
    intake, files_dir = scratch / "submitted-copy", scratch / "files"
    flags: list[str] = []
    submission = task.submission
    if submission.missing:
        execution = {"success": False, "error": "no submission folder", "log": ""}
    elif submission.problem:
        execution = {"success": False, "error": submission.problem, "log": "",
                     "refused": f"{submission.problem}; only regular files and folders are graded"}
    else:
        submission.write(intake)
        flags += [*submission.left_out, *remove_produced_files(intake, assignment)]
        execution = _run_execution(course, assignment, student, scratch, box, intake, task.timeout_s)
    if not intake.is_dir():
        intake.mkdir()
    if execution["success"] and not regular_entry(box, GRADEBOOK):
        execution = {"success": False, "error": "the notebook deleted the autograder's files while it ran", "log": ""}
    # what the hidden suite and the feedback see: copied out of the box, which goes after this
    if execution["success"]:
        try:
            left_out = copy_regular_tree(box, ("course", "autograded", student, assignment), files_dir)
            flags += [f"left out of the executed folder: {line}" for line in left_out]
        except OSError as err:
            execution = {"success": False, "error": f"the executed folder was refused: {err}", "log": ""}
    if not execution["success"]:
        if os.path.lexists(files_dir):
            shutil.rmtree(files_dir)
        copy_regular_tree(scratch, ("submitted-copy",), files_dir)
    out_of_room = ("No space left on device", "database or disk is full", "[Errno 28]")
    if not execution["success"] and (sandbox.scratch_full(box) or any(  # (nbgrader removes what it wrote on failure)
            sign in execution.get("error", "") + execution.get("log", "") for sign in out_of_room)):
        execution["refused"] = f"{DISK_FULL_MESSAGE.format(sandbox.SCRATCH_MB)}; nothing after that point could run"
    return execution, flags


def grade_submission(root: str, assignment: str, student: str, timeout_s: float = 1800,
                     cells: dict | None = None) -> SubmissionResult:
    """Grade one submission of the course at ROOT here, as ``hw autograde`` has a worker do it
    (``grading_task`` in this process, then ``grade_task``). CELLS: the assignment's grade cells
    (``gradebook_writer.assignment_cells``), read from the course's gradebook when None."""
    course = Course(Path(root))
    bundle = course_bundle(course, assignment)
    return grade_task(grading_task(course, assignment, student, bundle.digest, timeout_s, cells), bundle)


def grading_task(course: Course, assignment: str, student: str, bundle_digest: str, timeout_s: float = 1800,
                 cells: dict | None = None, submission=None) -> GradingTask:
    """What the driver sends a worker for one submission (the course bundle goes separately)."""
    submission = submission or read_submission(course, assignment, student)
    return GradingTask(assignment, student, submission,
                       cells if cells is not None else gradebook_writer.assignment_cells(course, assignment),
                       task_data.fingerprint(submission, bundle_digest), timeout_s)


def grade_task(task: GradingTask, bundle: CourseBundle) -> SubmissionResult:
    """Grade one submission from what the driver sent (in a worker, on any machine: nothing of
    the course's folder is read); returns its result (plain data, its autograded files included)
    and leaves no scratch behind."""
    course = unpacked(bundle)
    scratch = sandbox.make_scratch(f"grade-{task.student}-")
    try:
        return _grade(course, task, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _notebook_changes(course: Course, assignment: str, intake: Path) -> list[str]:
    """The structural changes of each submitted notebook (the grader's copy, INTAKE) against its
    release, in sentences (``nbgrader_plugins.notebook_changes``; a notebook's name is given
    where the assignment has several)."""
    from hwtools.grading.nbgrader_plugins import notebook_changes

    released = sorted(p.name for p in (course.release / assignment).glob("*.ipynb"))
    changes = []
    for name in released:
        try:
            submitted = json.loads(read_regular(intake, name, NOTEBOOK_BYTES))
        except (OSError, ValueError):
            continue  # missing, or not JSON: the grade's reason says so
        found = notebook_changes(submitted, json.loads((course.release / assignment / name).read_text()))
        changes += [f"{name}: {change}" if len(released) > 1 else change for change in found]
    return changes


def _grade(course: Course, task: GradingTask, scratch: Path) -> SubmissionResult:
    """The steps of grading one submission (docs/architecture.md)."""
    started, waited = time.monotonic(), warm.waited()
    execution, flags = _sandboxed_run(course, task, scratch)
    executed_at = time.monotonic()
    intake, files_dir = scratch / "submitted-copy", scratch / "files"
    failure, warning = _outcome_sentences(execution, intake)
    executed, nb_scores = _score_nbgrader_cells(task, files_dir, execution, flags)
    files = _files_for_feedback(files_dir, flags)
    hidden = hidden_runner.run_hidden_suite(course, task.assignment, files_dir, task.timeout_s, student=task.student)
    # the wait for a warm server still importing is the machine's start, not this submission's
    # time (which orders the next run's tasks, longest first)
    server_wait = warm.waited() - waited
    timings = {"execute": round(executed_at - started, 1), "hidden": round(time.monotonic() - executed_at, 1),
               "server_wait": round(server_wait, 1)}
    flags += _review_flags(course, task, intake, failure, hidden)
    grades, reports = _merge_grades(task, nb_scores, hidden, intake)
    notebooks = _autograded_notebooks(course, task, executed, intake, reports, _note(failure, warning, flags), flags)
    score = sum(g.auto_score or 0 for g in grades)
    reason = "; ".join(filter(None, [failure or warning or _zero_reason(score, hidden["checks"]), *flags]))
    return SubmissionResult(
        task.student, task.assignment, "failed" if failure else "graded", reason, score,
        max_score=sum(g.max_score for g in grades), manual_pending=sum(g.max_score for g in grades if g.needs_manual_grade),
        grades=grades, checks=[CheckResult.from_dict(c) for c in hidden["checks"]], hidden_status=hidden["status"],
        fingerprint=task.fingerprint, seconds=round(time.monotonic() - started - server_wait, 1), timings=timings,
        files={**notebooks, **files}, flags=flags, metrics=hidden["metrics"])


def _sandboxed_run(course: Course, task: GradingTask, scratch: Path) -> tuple[dict, list[str]]:
    """nbgrader autograde of the submission in the sandbox, which may write one bounded folder
    of the scratch only; what it left is copied out into SCRATCH/files."""
    sandbox.warm_up()  # its imports overlap with preparing the scratch course
    box = sandbox.bound_scratch(fresh_folder(scratch / "box"))
    try:
        return _execute_and_collect(course, task, scratch, box)
    finally:
        sandbox.free_scratch(box)


def _outcome_sentences(execution: dict, intake: Path) -> tuple[str | None, str | None]:
    """(why the notebook could not be graded, a warning about how it ran), or None each."""
    failure = None if execution["success"] else explain_failure(execution, intake)
    warning = sandbox.process_limit_message("the notebook") \
        if execution["success"] and execution.get("process_limit_hit") else None
    return failure, warning


def _note(failure: str | None, warning: str | None, flags: list[str]) -> str | None:
    """The autograder's note on top of the autograded notebook."""
    if failure:
        note = (f"{failure}. Parts that needed the notebook to run score zero; hidden tests of your other files "
                "ran separately and are reported below.")
    else:
        note = warning and f"{warning}; its cells were graded as they ran."
    if flags:
        flagged = "; ".join(flags)
        note = f"{note} {flagged}." if note else f"{flagged}."
    return note


def _score_nbgrader_cells(task: GradingTask, files_dir: Path, execution: dict, flags: list[str]) -> tuple[dict, dict]:
    """(the executed notebooks, (notebook, cell) -> (score, manual)): nbgrader's cells scored
    here from the executed notebooks against the released cells; the scratch gradebook (which
    the kernel can write) is never read."""
    executed = {name: _read_notebook(files_dir, name) for name in task.cells} if execution["success"] else {}
    nb_scores = {}
    for notebook, nb in executed.items():
        if nb is None:
            flags.append(f"the executed notebook {notebook}.ipynb could not be read")
        else:
            nb_scores.update(_notebook_scores(notebook, nb, task.cells[notebook], flags))
    return executed, nb_scores


def _review_flags(course: Course, task: GradingTask, intake: Path, failure: str | None, hidden: dict) -> list[str]:
    """What a TA should look at: the notebooks' structural changes, the hidden suite's flags."""
    flags = [change for change in _notebook_changes(course, task.assignment, intake) if change not in (failure or "")]
    return flags + [c["message"].splitlines()[0] for c in hidden["checks"]
                    if not c["passed"] and (c["message"] or "").startswith(FLAGGED)]


def _merge_grades(task: GradingTask, nb_scores: dict, hidden: dict, intake: Path) -> tuple[list[CellGrade], dict]:
    """Each released grade cell's score (the hidden suite's for hidden groups, capped), and the
    report text of each hidden cell."""
    totals = hidden_runner.group_totals(hidden["checks"])
    grades, reports = [], {}
    for notebook, notebook_cells in task.cells.items():
        for name, cell in notebook_cells.items():
            if name.startswith(HIDDEN_PREFIX):
                total = totals.get(name, {"earned": 0.0, "points": 0.0, "checks": []})
                reports[name] = hidden_runner.group_report(name, total, cell["max_score"], hidden["status"])
                score, manual = min(max(total["earned"], 0.0), cell["max_score"]), False
            elif (notebook, name) in nb_scores:
                score, manual = nb_scores[(notebook, name)]
            elif cell["manual"] and _read_notebook(intake, notebook) is not None:
                score, manual = None, True  # the notebook could not run, but a TA can read its answers
            else:
                score, manual = 0.0, False
            grades.append(CellGrade(notebook, name, score, manual, cell["max_score"]))
    return grades, reports


def _autograded_notebooks(course: Course, task: GradingTask, executed: dict, intake: Path, reports: dict,
                          note: str | None, flags: list[str]) -> dict[str, bytes]:
    """The autograded notebooks (the executed one, else the submitted one, else the release),
    the hidden cells' reports and the note in them, under the caps."""
    notebooks = {}
    for notebook in task.cells:
        nb = executed.get(notebook) or _read_notebook(intake, notebook) \
            or _read_notebook(course.release / task.assignment, notebook)
        if nb is None:
            continue
        _annotate(nb, reports, note)
        text = nbformat.writes(nb)
        notebooks[f"{notebook}.ipynb"] = (text if text.endswith("\n") else text + "\n").encode()
    notebooks, left_out = gradebook_writer.kept_files(notebooks)
    flags += left_out
    return notebooks
