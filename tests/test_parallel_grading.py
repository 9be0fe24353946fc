"""Parallel grading through the hw command: killed mid-run and resumed without losing or
duplicating a grade; the same code on an existing Dask scheduler."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_course
from hwtools.course.autograde import autograde
from hwtools.course.gradebook_writer import open_gradebook, recorded_state
from hwtools.course.release import release_all
from hwtools.course.sample_class import build_sample_class

HW = str(Path(sys.executable).parent / "hw")
EXPECTED = {"alice_correct": 15.0, "bob_partial": 5.0, "carol_stub": 0.0, "dave_broken": 0.0}


@pytest.fixture
def class_course(tmp_path):
    course = copy_course(tmp_path / "course")
    release_all(course, ["batchnorm"])
    build_sample_class(course, ["batchnorm"])
    return course


def scores(course) -> dict:
    with open_gradebook(course) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions("batchnorm")}


def test_kill_9_mid_run_then_resume(class_course):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    driver = subprocess.Popen([HW, "autograde", "batchnorm", "--workers", "1"], cwd=class_course.root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in driver.stdout:
        if line.startswith("[1/4]"):
            break
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    time.sleep(1)
    recorded = [s for s in EXPECTED if recorded_state(class_course, "batchnorm", s)]
    assert 1 <= len(recorded) < 4
    done = subprocess.run([HW, "autograde", "batchnorm", "--workers", "2"], cwd=class_course.root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{len(recorded)} submission(s) unchanged since graded, kept" in done.stdout
    assert f"grading {4 - len(recorded)} submission(s)" in done.stdout
    assert scores(class_course) == EXPECTED
    assert "student" in done.stdout and "alice_correct" in done.stdout  # the summary table
    for student in EXPECTED:  # also those recorded by the killed run, whose pages it may not have written
        assert (class_course.feedback / student / "batchnorm" / "batchnorm.html").is_file(), student


def _warm_servers_under(root: int) -> list[tuple[int, int, list[str]]]:
    """(pid, parent, argv) of the warm servers among ``root``'s descendants (not their forked
    children, which keep the server's command line)."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")[:-1]
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        processes[int(entry.name)] = (parent, argv)

    def under(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = processes.get(pid, (1, []))[0]
        return False

    def server(pid: int) -> bool:
        return "hwtools.sandbox._warm_server" in processes.get(pid, (0, []))[1]

    return [(pid, parent, argv) for pid, (parent, argv) in processes.items()
            if server(pid) and not server(parent) and under(pid)]


def test_a_separate_dask_scheduler_and_worker_give_the_same_scores(class_course, tmp_path):
    """`dask scheduler` and `dask worker` as their own processes, as a course would start them,
    reached by address and by scheduler file; with --preload-nanny hwtools.sandbox.dask_nanny the worker
    processes share one warm server, started by the `dask worker` command (where file-system
    isolation allows sharing)."""
    import json

    from conftest import dask_processes
    from hwtools.sandbox import isolation_problem

    with dask_processes(tmp_path, workers=2) as (scheduler_file, worker):
        address = json.loads(scheduler_file.read_text())["address"]
        results = autograde(class_course, "batchnorm", ["alice_correct"], scheduler=address)
        results += autograde(class_course, "batchnorm", ["bob_partial"], scheduler=str(scheduler_file))
        servers = _warm_servers_under(worker.pid)
    expected = {s: EXPECTED[s] for s in ("alice_correct", "bob_partial")}
    assert {r.student: r.score for r in results} == expected
    assert scores(class_course) == expected
    if isolation_problem(True, True) is None:  # one server, the command's, listening for its workers
        assert [(parent, len(argv)) for _, parent, argv in servers] == [(worker.pid, 7)], servers
    else:  # each worker process that graded started its own
        assert servers and all(parent != worker.pid for _, parent, _ in servers), servers


def test_assignments_of_one_run_share_the_cluster_and_all_get_feedback(tmp_path, capsys):
    """Feedback for every graded submission; a rerun that grades nothing writes only the pages
    that are missing (a run killed between recording a grade and its page leaves one so)."""
    import shutil

    from conftest import submit_source_solution

    course = copy_course(tmp_path / "course")
    release_all(course, ["batchnorm", "cnn_arithmetic"])
    for assignment in ("batchnorm", "cnn_arithmetic"):
        submit_source_solution(course, assignment)
    results = autograde(course, ["cnn_arithmetic", "batchnorm"], workers=2)
    assert [(r.assignment, r.student) for r in results] == [("cnn_arithmetic", "reference_solution"),
                                                                   ("batchnorm", "reference_solution")]
    # every automatic cell at full marks (the pending points also count a bonus answer's, which
    # the maximum leaves out: batchnorm's answer_eps)
    assert all(r.score == sum(g.max_score for g in r.grades if not g.needs_manual_grade) > 0 for r in results), results
    out = capsys.readouterr().out
    assert "cnn_arithmetic, batchnorm: grading 2 submission(s)" in out
    assert re.search(r"graded 2 submission\(s\) in \d+ s \([\d.]+ per minute\), 0 not fully graded", out), out
    for assignment in ("batchnorm", "cnn_arithmetic"):
        page = (course.feedback / "reference_solution" / assignment / f"{assignment}.ipynb").with_suffix(".html")
        assert page.is_file() and "Hidden tests" in page.read_text()

    kept = {page: page.stat().st_mtime_ns for page in (course.feedback / "reference_solution").rglob("*.html")
            if "cnn_arithmetic" in page.parts}
    shutil.rmtree(course.feedback / "reference_solution" / "batchnorm")
    again = autograde(course, ["cnn_arithmetic", "batchnorm"], workers=2)
    assert all(r.skipped for r in again), again
    assert "Hidden tests" in (course.feedback / "reference_solution" / "batchnorm" / "batchnorm.html").read_text()
    assert kept and {page: page.stat().st_mtime_ns for page in kept} == kept


def test_the_longest_submissions_are_queued_first(tmp_path):
    """Each task's priority is its expected time: its own last grading time, else its
    assignment's median, else 0 (nothing known: the order of submission)."""
    import json

    from hwtools.course.autograde import expected_seconds
    from hwtools.course.gradebook_writer import state_path

    course = copy_course(tmp_path / "course")
    for student in ("ann", "ben", "cid", "dot"):
        for assignment in ("batchnorm", "gradcam"):
            course.submission_dir(student, assignment).mkdir(parents=True)
    for (assignment, student), seconds in {("gradcam", "ann"): 14.0, ("gradcam", "ben"): 11.0,
                                           ("gradcam", "dot"): 1800.0, ("batchnorm", "ann"): 2.0}.items():
        path = state_path(course, assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seconds": seconds}))
    jobs = [("batchnorm", "ann"), ("batchnorm", "ben"), ("gradcam", "cid"), ("gradcam", "ann"), ("gradcam", "dot")]
    expected = expected_seconds(course, jobs)
    assert expected == {("batchnorm", "ann"): 2, ("batchnorm", "ben"): 2, ("gradcam", "cid"): 14,
                        ("gradcam", "ann"): 14, ("gradcam", "dot"): 1800}
    assert expected_seconds(course, [("cnn_arithmetic", "ann")]) == {("cnn_arithmetic", "ann"): 0}
