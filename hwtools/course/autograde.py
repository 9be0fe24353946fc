"""Autograde a class (the driver): every submission graded in parallel on Dask (a LocalCluster
by default, any scheduler address for a cluster), results recorded by one writer, resumable.

Each task is sent what it reads (its submission, the grade cells, the course bundle: see
``hwtools.grading.task``) and returns everything recorded; the driver alone writes the
gradebook, autograded/ and the feedback pages, so a worker needs no part of the course folder.
A submission already recorded with the same fingerprint (its files and the course bundle
unchanged) is skipped unless ``force``; an interrupted run loses nothing that was recorded,
and the next run grades only what is missing or changed.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time

from hwtools import sandbox
from hwtools.course import Course, gradebook_writer, shown_id, student_id_problem
from hwtools.course.feedback import feedback_page, generate_feedback, write_own_feedback
from hwtools.grading import task as task_data
from hwtools.grading.grade import grade_task, grading_task
from hwtools.grading.results import SubmissionResult
from hwtools.grading.task import course_bundle, read_submission
from hwtools.course.sanitize import terminal_safe


@contextlib.contextmanager
def _cluster(workers: int, scheduler: str | None):
    """A Dask client: on the given scheduler (address or scheduler file), or on a LocalCluster
    of ``workers`` processes (one thread each: every submission runs single-threaded in its
    sandbox), closed after.

    The LocalCluster's workers are forks of this process, which has the grading code and
    nbgrader imported: a fresh interpreter per worker costs ~2 s of CPU, spent while the warm
    server imports on the same cores."""
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


def pending_students(course: Course, assignment: str, students: list[str], force: bool,
                     bundle_digest: str) -> tuple[dict, list]:
    """({student: their submission, read now} to grade, [rows of those already recorded with an
    unchanged fingerprint])."""
    todo, kept = {}, []
    for student in students:
        state = gradebook_writer.recorded_state(course, assignment, student)
        submission = read_submission(course, assignment, student)
        if not force and state and state.get("fingerprint") == task_data.fingerprint(submission, bundle_digest):
            kept.append(SubmissionResult.from_state(assignment, student, state, seconds=0.0, skipped=True))
        else:
            todo[student] = submission
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


def refuse(course: Course, assignment: str, student: str, reason: str, max_score: float) -> SubmissionResult:
    """A submission whose student id cannot be graded safely: one line here, a row in the
    results, and (where the id can name a folder) a feedback page saying why; never graded,
    never recorded in the gradebook."""
    row = SubmissionResult(student, assignment, "refused", reason, 0.0, max_score)
    page = write_own_feedback(course, assignment, student, row)
    print(terminal_safe(f"{assignment}: refused {shown_id(student)}: {reason} ({page})"), flush=True)
    return row


def _progress(done: int, failed: int, total: int, started: float, latest: SubmissionResult) -> None:
    remaining = total - done
    elapsed = time.monotonic() - started
    eta = elapsed / done * remaining if done else float("nan")
    status = latest.status + (f" ({latest.reason})" if latest.reason else "")
    score = f"{latest.score:g}/{latest.max_score:g} " if latest.status != "error" else ""
    line = f"[{done}/{total}] {latest.student} {latest.assignment}: {score}{status}"
    print(f"{terminal_safe(line)} | done {done}, failed {failed}, remaining {remaining}, eta {eta:.0f} s", flush=True)


def autograde(course: Course, assignments: str | list[str], students: list[str] | None = None, *,
              workers: int | None = None, scheduler: str | None = None, force: bool = False,
              timeout_s: float = 1800) -> list[SubmissionResult]:
    """Grade, record and give feedback; returns one summary row per submission. Several
    assignments share one cluster, so no worker idles while another assignment's tail runs."""
    assignments = [assignments] if isinstance(assignments, str) else list(assignments)
    jobs, results, bundles = {}, [], {}
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
            bundles[assignment] = course_bundle(course, assignment)
            todo, kept = pending_students(course, assignment, [s for s in chosen if s not in refused], force,
                                          bundles[assignment].digest)
            if kept:
                print(f"{assignment}: {len(kept)} submission(s) unchanged since graded, kept (--force regrades)")
            jobs.update({(assignment, student): submission for student, submission in todo.items()})
            results += kept
        stale = [(r.assignment, r.student) for r in results
                 if r.skipped and not _feedback_current(course, r.assignment, r.student)]
        if jobs:
            client = stack.enter_context(_cluster(min(workers or os.cpu_count() or 1, len(jobs)), scheduler))
            pages = stack.enter_context(FeedbackWriter(course))
            for pair in stale:
                pages.submit(*pair)
            results += _grade_and_record(course, client, jobs, bundles, timeout_s, pages)
        else:
            for assignment in assignments:
                generate_feedback(course, assignment, [student for a, student in stale if a == assignment])
    _scores_from_gradebook(course, results)
    return sorted(results, key=lambda r: (assignments.index(r.assignment), r.student))


def _scores_from_gradebook(course: Course, results: list[SubmissionResult]) -> None:
    """Each recorded result's score as the gradebook has it, a TA's manual points included, and
    the points still to grade by hand (what `hw export` and `hw report` show)."""
    from hwtools.course.export import gradebook_scores

    for assignment in dict.fromkeys(r.assignment for r in results):
        rows = [r for r in results if r.assignment == assignment and r.recorded]
        recorded = gradebook_scores(course, assignment, [r.student for r in rows]) if rows else {}
        for row in rows:
            if row.student in recorded:
                row.score, row.max_score, row.manual_pending = recorded[row.student]


def _grade_and_record(course, client, jobs: dict, bundles: dict, timeout_s,
                      pages: "FeedbackWriter") -> list[SubmissionResult]:
    """Grade on the workers, record here one at a time, and write each recorded submission's
    feedback pages here at once (beside the grading still running). A task is sent everything
    it reads: its submission and the assignment's grade cells (read here once) with it, the
    course bundle once per worker; it sends back everything recorded (its files too, dropped
    from the row once written). No worker needs the course folder."""
    from dask.distributed import as_completed

    results, failed, started = [], 0, time.monotonic()
    named = sorted({a for a, _ in jobs}, key=[a for a, _ in jobs].index)
    print(f"{', '.join(named)}: grading {len(jobs)} submission(s)", flush=True)
    expected = expected_seconds(course, list(jobs))
    cells = {assignment: gradebook_writer.assignment_cells(course, assignment) for assignment in named}
    shipped = {assignment: client.scatter(bundles[assignment], broadcast=True, hash=False) for assignment in named}
    # submitted longest first, as well as prioritised so: the first tasks go to idle workers the
    # moment they are submitted, before the scheduler has seen the others' priorities
    longest_first = sorted(jobs.items(), key=lambda job: -expected[job[0]])
    futures = {client.submit(grade_task, grading_task(course, assignment, student, bundles[assignment].digest,
                                                      timeout_s, cells[assignment], submission),
                             shipped[assignment], pure=False, priority=expected[(assignment, student)]):
               (assignment, student) for (assignment, student), submission in longest_first}
    with gradebook_writer.open_gradebook(course) as gradebook:
        for future in as_completed(futures):
            assignment, student = futures[future]
            try:
                result = future.result()
            except Exception as err:  # a grader crash is reported, never recorded as a score
                result = SubmissionResult(student, assignment, "error", f"grader error: {type(err).__name__}: {err}",
                                          score=None, max_score=None)
            future.release()
            if result.recorded:
                gradebook_writer.record_result(course, result, gradebook)
                result.files = {}
                pages.submit(assignment, student)
            else:  # never recorded: its page says why, from this result
                page = write_own_feedback(course, assignment, student, result)
                print(terminal_safe(f"feedback for {student} ({assignment}): {page}"), flush=True)
            failed += result.status != "graded"
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


FEEDBACK_NICENESS = 10  # the feedback thread's nice value: a tenth of a core against a grading one


def _yield_to_grading() -> None:
    """Lower the calling thread's CPU priority (Linux: a thread id is a process id for
    setpriority). The feedback pages (nbconvert, ~1 s of CPU each) then take the cores the
    sandboxes leave idle, the gaps and the run's tail, instead of slowing the submissions that
    share the machine with the driver."""
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FEEDBACK_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the pages are written all the same
        pass


class FeedbackWriter:
    """Writes feedback pages in the driver, one submission at a time, in a thread beside the
    recording (nbgrader reads the course's autograded/ and gradebook, which only the driver
    has), at low CPU priority (``_yield_to_grading``); on leaving, waits for them and prints a
    line for each page nbgrader could not write."""

    def __init__(self, course: Course):
        from concurrent.futures import ThreadPoolExecutor

        self.course, self.pages = course, {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hw-feedback",
                                        initializer=_yield_to_grading)

    def submit(self, assignment: str, student: str) -> None:
        self.pages[(assignment, student)] = self._pool.submit(feedback_page, str(self.course.root), assignment, student)

    def __enter__(self) -> "FeedbackWriter":
        return self

    def __exit__(self, error_type, *exc) -> None:
        # interrupted: the pages not started yet are written by the next run (they are stale)
        self._pool.shutdown(wait=True, cancel_futures=error_type is not None)
        for (assignment, student), future in self.pages.items():
            if future.cancelled():
                continue
            try:
                message = future.result()
            except Exception as err:
                message = f"failed: {type(err).__name__}: {err}"
            if message:
                print(terminal_safe(f"feedback for {student} ({assignment}): {message}"), flush=True)


def _feedback_current(course: Course, assignment: str, student: str) -> bool:
    """A recorded submission's feedback is at least as new as its record (a run interrupted
    between the two leaves it stale, and the next run writes it)."""
    state = gradebook_writer.state_path(course, assignment, student)
    pages = list(course.feedback_dir(student, assignment).glob("*.html"))
    return state.is_file() and bool(pages) and min(p.stat().st_mtime for p in pages) >= state.stat().st_mtime


def summary_table(results: list[SubmissionResult]) -> str:
    """One line per submission for the terminal (what came from a submission made printable)."""
    rows = [("student", "assignment", "score", "time", "status", "reason")]
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.score is not None and r.max_score is not None else "-"
        if r.manual_pending:
            score += f" ({r.manual_pending:g} to grade by hand)"
        rows.append((r.student, r.assignment, score, f"{r.seconds:.1f}s",
                     r.status + (" (kept)" if r.skipped else ""), r.reason[:90]))
    rows = [tuple(terminal_safe(cell) for cell in row) for row in rows]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    table = "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
    errors = [f"  {r.student} {r.assignment}: {c.id} ({c.group}, {c.points:g} points not awarded): "
              f"{c.grader_detail or 'no detail recorded'}" for r in results for c in r.grader_errors]
    if errors:  # kept apart from what students failed: fix the suite, then regrade with --force
        table += (f"\n\n{len(errors)} grader errors (the grader's own code raised; not the students' fault, "
                  "their points are not awarded until the suite is fixed and the class regraded with --force):\n"
                  + "\n".join(terminal_safe(line) for line in errors))
    return table
