"""Class autograding throughput (issue 8), on the same N submissions mixing assignments:

1. serial ``nbgrader autograde`` (one submission after another, nbgrader's own way) against
   the ``hw autograde`` command (Dask LocalCluster, one worker per core, its warm server started
   by the command) and against ``hw autograde --scheduler`` on a standing cluster on this
   machine (``dask worker --preload-nanny hwtools.sandbox.dask_nanny``, started once before the rounds,
   as a course starts one for a grading session), all timed as the commands a TA types, side by
   side, alternating for ``--rounds`` rounds (this machine's timings vary by 10-20 % from run to
   run): each round's ratios and their medians;
2. the overhead per submission of hw's grading (sandboxed nbgrader run + hidden suite) over a
   bare execution of the same notebook (``jupyter nbconvert --execute``, same thread settings),
   alone and beside the rest of the class (the bare notebooks, one per core at a time, longest
   first: what a grader with no overhead would do, measured rather than assumed);
3. scaling: a LocalCluster with 1, 2 and 4 workers, submissions per minute, and what a class of
   200 students needs.

Each submission is the instructor's solution (every cell and check runs: the slowest case).
Usage (figures go to stdout; see benchmarks/RESULTS.md for measured ones):
    HW_MODE=grade python benchmarks/class_throughput.py [--submissions 8]
        [--assignments batchnorm,medical,cnn_arithmetic,gradcam] [--workers 1,2,4] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
DEFAULT_ASSIGNMENTS = "batchnorm,medical,cnn_arithmetic,gradcam"


def build_course(root: Path, assignments: list[str], size: int):
    """A course copy with ``size`` submissions, assignments taken in turn (s00_<a>, s01_<a>, ...)."""
    from conftest import copy_course, submit_source_solution
    from hwtools.course.release import release_all

    course = copy_course(root)
    release_all(course, assignments)
    jobs = [(assignments[i % len(assignments)], f"s{i // len(assignments):02d}") for i in range(size)]
    for assignment, student in jobs:
        submit_source_solution(course, assignment, student)
    return course, jobs


def run_serial_nbgrader(course, assignments: list[str]) -> float:
    """Plain nbgrader: ``nbgrader autograde A --force`` for each assignment, in the course."""
    started = time.monotonic()
    for assignment in assignments:
        subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", assignment, "--force"],
                       cwd=course.root, check=True, capture_output=True)
    return time.monotonic() - started


def run_hw_command(course, assignments: list[str], *options: str) -> float:
    """``hw autograde A B ... --force OPTIONS`` in the course, as a TA runs it."""
    started = time.monotonic()
    subprocess.run([str(Path(sys.executable).parent / "hw"), "autograde", *assignments, "--force", *options],
                   cwd=course.root, check=True, capture_output=True)
    return time.monotonic() - started


def run_hw(course, assignments: list[str], workers: int) -> tuple[float, list[dict]]:
    from hwtools.course.autograde import autograde

    started = time.monotonic()
    results = autograde(course, assignments, workers=workers, force=True)
    return time.monotonic() - started, results


def bare_seconds(course, assignment: str, student: str, scratch: Path, tag: str = "") -> float:
    """Execute the submitted notebook as a student's Jupyter would, with the sandbox's thread settings."""
    from hwtools import sandbox

    work = scratch / f"bare{tag}-{assignment}-{student}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(course.submission_dir(student, assignment), work)
    # the student's own variant, as the grader's kernel has it; cnn_arithmetic's source answers
    # are the reference_solution's variant, so its public checks fail here as in hw's run
    env = dict(os.environ, HW_STUDENT_ID=student, **sandbox.thread_env(1))
    started = time.monotonic()
    for notebook in sorted(work.glob("*.ipynb")):
        subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                        "--allow-errors", "--ExecutePreprocessor.timeout=-1", "--output", f"{notebook.stem}-run.ipynb", notebook.name],
                       cwd=work, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def bare_class(course, jobs: list[tuple[str, str]], scratch: Path, slots: int,
               alone: dict[str, float]) -> tuple[float, dict[tuple[str, str], float]]:
    """The whole class's notebooks executed bare, SLOTS at a time, longest first (by ALONE, the
    seconds of each assignment's notebook run by itself): what a grader with no overhead at all
    does on this machine. Returns the wall time and each notebook's seconds beside the others;
    a notebook alone has the idle cores to itself (TensorFlow's own threads, the file cache), so
    the per-submission overhead of a parallel run is measured against these."""
    from concurrent.futures import ThreadPoolExecutor

    ordered = sorted(jobs, key=lambda job: -alone[job[0]])
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=slots) as pool:
        seconds = dict(zip(ordered, pool.map(lambda job: bare_seconds(course, *job, scratch, tag="-class"), ordered)))
    return time.monotonic() - started, seconds


def preload_seconds() -> float:
    """What a worker's warm fork server spends importing, once (hwtools.sandbox._warm_server)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-I", "-c", "from hwtools.sandbox import _warm_server as s; s._preload(); s._preload(s.LATER)"], check=True,
                   capture_output=True, env=dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg"))
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--assignments", default=DEFAULT_ASSIGNMENTS)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    assignments = args.assignments.split(",")
    worker_counts = [int(w) for w in args.workers.split(",")]
    os.environ.setdefault("HW_MODE", "grade")
    os.environ.setdefault("HW_DATA", "auto")
    scratch = Path(tempfile.mkdtemp(prefix="hw-bench-throughput-"))
    course, jobs = build_course(scratch / "course", assignments, args.submissions)
    cores = os.cpu_count()
    print(f"mode={os.environ['HW_MODE']}, cores={cores}, {len(jobs)} submissions: "
          + ", ".join(f"{a} x{sum(1 for j in jobs if j[0] == a)}" for a in assignments), flush=True)

    subprocess.run([sys.executable, "-c", "import tensorflow, torch, keras"], check=True)  # warm the file cache
    ratios, standing_ratios, serial = [], [], None
    from conftest import dask_processes

    # a standing cluster on this machine, as a course starts one for a grading session
    with dask_processes(scratch, cores) as (scheduler_file, _):
        standing = ("--scheduler", str(scheduler_file))
        started = time.monotonic()
        run_hw_command(course, assignments, *standing)  # its workers' first run: their server starts
        print(f"standing cluster ({cores} workers, --preload-nanny hwtools.sandbox.dask_nanny) started and graded the "
              f"class once (untimed below): {time.monotonic() - started:.1f} s", flush=True)
        for round_ in range(1, args.rounds + 1):
            serial = run_serial_nbgrader(course, assignments)
            hw = run_hw_command(course, assignments, "--workers", str(cores))
            on_standing = run_hw_command(course, assignments, *standing)
            ratios.append(serial / hw)
            standing_ratios.append(serial / on_standing)
            print(f"round {round_}: serial nbgrader autograde {serial:.1f} s ({len(jobs) / serial * 60:.1f}/min), "
                  f"hw autograde ({cores} workers) {hw:.1f} s ({len(jobs) / hw * 60:.1f}/min): {serial / hw:.2f}x, "
                  f"hw autograde --scheduler (standing cluster) {on_standing:.1f} s: {serial / on_standing:.2f}x",
                  flush=True)

    runs = {}
    for workers in worker_counts:
        elapsed, results = run_hw(course, assignments, workers)
        runs[workers] = (elapsed, results)
        print(f"hw autograde, {workers} worker(s): {elapsed:.1f} s, {len(jobs) / elapsed * 60:.1f} submissions/min",
              flush=True)

    print(f"\n1. throughput: hw autograde ({cores} workers) / serial nbgrader autograde, median of {len(ratios)} "
          f"round(s): {statistics.median(ratios):.2f}x (each: {', '.join(f'{r:.2f}x' for r in ratios)}; "
          f"target >= 1.9x); hw also runs the hidden suites and writes feedback, nbgrader does neither")
    print(f"   on a standing cluster of {cores} workers on this machine (their warm server started once, before "
          f"the rounds): {statistics.median(standing_ratios):.2f}x (each: "
          f"{', '.join(f'{r:.2f}x' for r in standing_ratios)})")

    graded = runs[min(runs)][1]
    print(f"\n2. overhead per submission ({min(runs)} worker(s); every submission of each assignment, the warm server "
          "started) over bare execution of the same notebook: alone, and beside the others as hw grades them "
          f"({cores} at a time, longest first)")
    alone = {assignment: bare_seconds(course, assignment, student, scratch) for assignment, student in jobs[-len(assignments):]}
    bare_wall, beside = bare_class(course, jobs, scratch, cores, alone)
    overheads, overheads_alone = [], []
    for assignment in assignments:
        mine = [r for r in graded if r.assignment == assignment]
        hw = statistics.mean(r.seconds for r in mine)
        parallel = statistics.mean(beside[(a, s)] for a, s in jobs if a == assignment)
        execute = statistics.mean(r.timings.get("execute", float("nan")) for r in mine)
        hidden = statistics.mean(r.timings.get("hidden", float("nan")) for r in mine)
        overheads.append(hw / parallel - 1)
        overheads_alone.append(hw / alone[assignment] - 1)
        print(f"   {assignment:16s} bare alone {alone[assignment]:5.1f} s, beside the others {parallel:5.1f} s | hw "
              f"{hw:5.1f} s (sandboxed nbgrader run {execute:5.1f} s, hidden suite {hidden:4.1f} s) | overhead "
              f"{overheads[-1]:+.0%} over bare beside the others, {overheads_alone[-1]:+.0%} over bare alone", flush=True)
    print(f"   median overhead {statistics.median(overheads):+.0%} over bare beside the others, "
          f"{statistics.median(overheads_alone):+.0%} over bare alone (target <= 0 %)")
    print(f"   once per machine (a LocalCluster's workers share it): the warm server's imports, {preload_seconds():.1f} s")
    print(f"   bound on 1.: the bare notebooks alone, {cores} at a time, would take {sum(alone[a] for a, _ in jobs) / cores:.1f} s "
          f"if nothing slowed them beside each other ({serial / (sum(alone[a] for a, _ in jobs) / cores):.2f}x serial "
          f"nbgrader); measured, {cores} at a time longest first, they take {bare_wall:.1f} s ({serial / bare_wall:.2f}x): "
          "a grader with no overhead at all reaches that")

    print("\n3. scaling (submissions per minute against workers):")
    base = len(jobs) / runs[min(runs)][0]
    for workers, (elapsed, _) in sorted(runs.items()):
        rate = len(jobs) / elapsed
        print(f"   {workers} worker(s): {rate * 60:5.1f}/min, speed-up {rate / base:.2f}x")
    mean = statistics.mean(r.seconds for r in graded)
    print(f"   mean worker time per submission {mean:.1f} s ({min(runs)} worker(s) on {cores} cores); projected:")
    for students in (100, 200):
        for slots in (cores, 16, 64):
            print(f"     {students} students x {len(assignments)} assignments ({students * len(assignments)} "
                  f"submissions) on {slots:3d} single-core worker slots: about "
                  f"{students * len(assignments) * mean / slots / 60:.0f} min")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
