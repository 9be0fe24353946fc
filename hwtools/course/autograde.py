"""Autograde a class: every submission graded in parallel on Dask (a LocalCluster by
default, any scheduler address for a cluster), results recorded by one writer, resumable.

A submission already recorded with the same fingerprint (its files, the source and the
hidden suite unchanged) is skipped unless ``force``; an interrupted run loses nothing that
was recorded, and the next run grades only what is missing or changed.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time

from hwtools.course import gradebook_writer

from hwtools import sandbox
from hwtools.course import Course, shown_id, student_id_problem
from hwtools.course.feedback import feedback_page, generate_feedback, write_own_feedback
from hwtools.grading.grade import grade_submission, submission_fingerprint
from hwtools.course.sanitize import terminal_safe


@contextlib.contextmanager
def _cluster(workers: int, scheduler: str | None):
    """A Dask client: on the given scheduler (address or scheduler file), or on a LocalCluster
    of ``workers`` processes (one thread each: every submission runs single-threaded in its
    sandbox), closed after.

    The LocalCluster's workers are forks of this process, which has the grading code and
    nbgrader's converters (for the feedback pages) imported: a fresh interpreter per worker
    costs ~2 s of CPU, spent while the warm server imports on the same cores."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:  # an address, or the file `dask scheduler --scheduler-file` writes
        where = {"scheduler_file": scheduler} if scheduler.endswith(".json") else {"address": scheduler}
        with Client(**where) as client:
            yield client
        return
    import nbgrader.apps  # noqa: F401  (inherited by the workers)

    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                         silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def pending_students(course: Course, assignment: str, students: list[str], force: bool) -> tuple[list, list]:
    """(to grade, already recorded with an unchanged fingerprint)."""
    todo, kept = [], []
    for student in students:
        state = gradebook_writer.recorded_state(course, assignment, student)
        if not force and state and state.get("fingerprint") == submission_fingerprint(course, assignment, student):
            kept.append(dict(state, student=student, assignment=assignment, seconds=0.0, skipped=True))
        else:
            todo.append(student)
    return todo, kept


class NotReleased(RuntimeError):
    """Grading needs the assignment's grade cells, which `hw release` records."""


def _require_release(course: Course, assignment: str) -> float:
    """The assignment's points (it must have been released)."""
    from nbgrader.api import MissingEntry

    with gradebook_writer.open_gradebook(course) as gb:
        try:
            return float(gb.find_assignment(assignment).max_score)
        except MissingEntry:
            raise NotReleased(f"{assignment} is not in the gradebook yet: run `hw release {assignment}` first") from None


def refuse(course: Course, assignment: str, student: str, reason: str, max_score: float) -> dict:
    """A submission whose student id cannot be graded safely: one line here, a row in the
    results, and (where the id can name a folder) a feedback page saying why; never graded,
    never recorded in the gradebook."""
    row = {"student": student, "assignment": assignment, "status": "refused", "reason": reason, "score": 0.0,
           "max_score": max_score, "manual_pending": 0, "seconds": 0.0, "grades": []}
    page = write_own_feedback(course, assignment, student, row)
    print(terminal_safe(f"{assignment}: refused {shown_id(student)}: {reason} ({page})"), flush=True)
    return row


def _progress(done: int, failed: int, total: int, started: float, latest: dict) -> None:
    remaining = total - done
    elapsed = time.monotonic() - started
    eta = elapsed / done * remaining if done else float("nan")
    status = latest["status"] + (f" ({latest['reason']})" if latest.get("reason") else "")
    score = f"{latest['score']:g}/{latest['max_score']:g} " if "score" in latest else ""
    line = f"[{done}/{total}] {latest['student']} {latest['assignment']}: {score}{status}"
    print(f"{terminal_safe(line)} | done {done}, failed {failed}, remaining {remaining}, eta {eta:.0f} s", flush=True)


def autograde(course: Course, assignments: str | list[str], students: list[str] | None = None, *,
              workers: int | None = None, scheduler: str | None = None, force: bool = False,
              timeout_s: float = 1800) -> list[dict]:
    """Grade, record and give feedback; returns one summary row per submission. Several
    assignments share one cluster, so no worker idles while another assignment's tail runs."""
    assignments = [assignments] if isinstance(assignments, str) else list(assignments)
    jobs, results = [], []
    with contextlib.ExitStack() as stack:
        if scheduler is None:  # started first: its imports overlap with everything up to the first submission
            sandbox.require_sandbox()  # (a cluster's workers refuse each submission themselves)
            stack.enter_context(sandbox.shared_warm_server())
        for assignment in assignments:
            max_score = _require_release(course, assignment)
            chosen = list(students) if students else \
                course.students(assignment) + sorted(course.refused_students(assignment))
            refused = {s: why for s in chosen if (why := student_id_problem(s))}
            results += [refuse(course, assignment, s, why, max_score) for s, why in refused.items()]
            todo, kept = pending_students(course, assignment, [s for s in chosen if s not in refused], force)
            if kept:
                print(f"{assignment}: {len(kept)} submission(s) unchanged since graded, kept (--force regrades)")
            jobs += [(assignment, student) for student in todo]
            results += kept
        stale = [(r["assignment"], r["student"]) for r in results
                 if r.get("skipped") and not _feedback_current(course, r["assignment"], r["student"])]
        if jobs:
            client = stack.enter_context(_cluster(min(workers or os.cpu_count() or 1, len(jobs)), scheduler))
            feedback = {pair: _submit_feedback(client, course, *pair) for pair in stale}
            results += _grade_and_record(course, client, jobs, timeout_s, feedback)
            _report_feedback(feedback)
        else:
            for assignment in assignments:
                generate_feedback(course, assignment, [student for a, student in stale if a == assignment])
    return sorted(results, key=lambda r: (assignments.index(r["assignment"]), r["student"]))


def _grade_and_record(course, client, jobs: list[tuple[str, str]], timeout_s, feedback: dict) -> list[dict]:
    """Grade on the workers, record here one at a time; each recorded submission's feedback
    page is written on a worker at once (ahead of the grading still queued), into ``feedback``.
    Each task is sent its assignment's grade cells, read here once, and sends back everything
    recorded (its files too, dropped from the row once written)."""
    from dask.distributed import as_completed

    results, failed, started = [], 0, time.monotonic()
    named = sorted({a for a, _ in jobs}, key=[a for a, _ in jobs].index)
    print(f"{', '.join(named)}: grading {len(jobs)} submission(s)", flush=True)
    expected = expected_seconds(course, jobs)
    cells = {assignment: gradebook_writer.assignment_cells(course, assignment) for assignment in named}
    futures = {client.submit(grade_submission, str(course.root), assignment, student, timeout_s,
                             cells=cells[assignment], pure=False, priority=expected[(assignment, student)]):
               (assignment, student) for assignment, student in jobs}
    with gradebook_writer.open_gradebook(course) as gradebook:
        for future in as_completed(futures):
            assignment, student = futures[future]
            try:
                result = future.result()
            except Exception as err:  # a grader crash is reported, never recorded as a score
                result = {"student": student, "assignment": assignment, "status": "error",
                          "reason": f"grader error: {type(err).__name__}: {err}"}
            if result["status"] in ("graded", "failed"):
                gradebook_writer.record_result(course, result, gradebook)
                result.pop("files", None)
                feedback[(assignment, student)] = _submit_feedback(client, course, assignment, student)
            else:  # never recorded: its page says why, from this result
                page = write_own_feedback(course, assignment, student, dict(result, grades=result.get("grades", [])))
                print(terminal_safe(f"feedback for {student} ({assignment}): {page}"), flush=True)
            failed += result["status"] != "graded"
            results.append(result)
            _progress(len(results), failed, len(jobs), started, result)
    elapsed = time.monotonic() - started
    print(f"graded {len(results)} submission(s) in {elapsed:.0f} s ({len(results) / elapsed * 60:.1f} per minute), "
          f"{failed} not fully graded", flush=True)
    return results


def expected_seconds(course: Course, jobs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How long each submission should take: its own time when it was last graded, else the
    median time of its assignment's graded submissions, else 0. Submitted as the tasks'
    priorities, so the longest start first and no worker is left with a long one at the end
    while the others idle."""
    def seconds(assignment: str, student: str) -> float | None:
        return (gradebook_writer.recorded_state(course, assignment, student) or {}).get("seconds")

    medians = {}
    for assignment in {a for a, _ in jobs}:
        times = [t for t in (seconds(assignment, s) for s in course.students(assignment)) if t]
        medians[assignment] = statistics.median(times) if times else 0
    return {(a, s): round(seconds(a, s) or medians[a]) for a, s in jobs}


FEEDBACK_PRIORITY = 10 ** 9  # ahead of every submission still queued (priorities are expected seconds)


def _submit_feedback(client, course: Course, assignment: str, student: str):
    return client.submit(feedback_page, str(course.root), assignment, student, pure=False, priority=FEEDBACK_PRIORITY)


def _feedback_current(course: Course, assignment: str, student: str) -> bool:
    """A recorded submission's feedback is at least as new as its record (a run interrupted
    between the two leaves it stale, and the next run writes it)."""
    state = gradebook_writer.state_path(course, assignment, student)
    pages = list((course.feedback / student / assignment).glob("*.html"))
    return state.is_file() and bool(pages) and min(p.stat().st_mtime for p in pages) >= state.stat().st_mtime


def _report_feedback(feedback: dict) -> None:
    """One line for each page nbgrader could not write (what was written instead)."""
    for (assignment, student), future in feedback.items():
        try:
            message = future.result()
        except Exception as err:
            message = f"failed: {type(err).__name__}: {err}"
        if message:
            print(terminal_safe(f"feedback for {student} ({assignment}): {message}"), flush=True)


def summary_table(results: list[dict]) -> str:
    """One line per submission for the terminal (what came from a submission made printable)."""
    rows = [("student", "assignment", "score", "time", "status", "reason")]
    for r in results:
        score = f"{r['score']:g}/{r['max_score']:g}" if "score" in r else "-"
        if r.get("manual_pending"):
            score += f" ({r['manual_pending']:g} to grade by hand)"
        rows.append((r["student"], r["assignment"], score, f"{r.get('seconds', 0):.1f}s",
                     r["status"] + (" (kept)" if r.get("skipped") else ""), r.get("reason", "")[:90]))
    rows = [tuple(terminal_safe(cell) for cell in row) for row in rows]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
