"""Throughput of class autograding: a class of N batch-norm submissions (copies of the sample
students) graded with 1 worker and with one worker per core. Prints submissions per minute.
Usage: python benchmarks/class_throughput.py [N]
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    from conftest import copy_course, submit_folder
    from hwtools.autograde import autograde
    from hwtools.release import release_all
    from hwtools.sample_class import build_sample_class

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    for workers in sorted({1, os.cpu_count() or 1}):
        scratch = Path(tempfile.mkdtemp(prefix="hw-bench-class-"))
        course = copy_course(scratch / "course")
        release_all(course, ["batchnorm"])
        samples = [s for s, _ in build_sample_class(course, ["batchnorm"])]
        for index in range(size):
            sample = samples[index % len(samples)]
            submit_folder(course, "batchnorm", f"student{index:03d}", course.submission_dir(sample, "batchnorm"))
        for sample in samples:
            shutil.rmtree(course.submitted / sample)
        started = time.monotonic()
        autograde(course, "batchnorm", workers=workers)
        elapsed = time.monotonic() - started
        print(f"batchnorm, {size} submissions, {workers} worker(s): {elapsed:.1f} s, "
              f"{size / elapsed * 60:.1f} submissions/min", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
