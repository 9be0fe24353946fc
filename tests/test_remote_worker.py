"""A Dask worker on another machine: it sees neither the course folder nor the driver's temp
folder, and grades exactly like a LocalCluster (issue 18).

"Another machine" is a ``dask worker`` in a mount namespace of its own (``unshare``), where a
fresh tmpfs lies over ``/tmp`` and ``/dev/shm`` (the course copy and the driver's temp folder
are in ``/tmp``) and over the course root itself wherever it is: what it has is this
environment (the interpreter, the venv, hwtools), as a container of a cluster would. It shares
the network with the driver, as the machines of a cluster do.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


from conftest import copy_course
from hwtools.course.autograde import autograde
from hwtools.course.export import export_grades
from hwtools.course.gradebook_writer import open_gradebook
from hwtools.course.release import release_all
from hwtools.course.sample_class import build_sample_class

ASSIGNMENT = "batchnorm"
BIN = Path(sys.executable).parent


def _unshare_usable() -> str | None:
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs hw-probe /mnt && echo ok"], capture_output=True, text=True)
    return None if probe.stdout.strip() == "ok" else (probe.stderr.strip() or "unshare --mount failed")


@contextlib.contextmanager
def remote_worker(folder: Path, hidden: list[Path]):
    """``dask scheduler`` here, and one ``dask worker`` (two worker processes, as the README's
    cluster section starts them) in its own mount namespace, where each of HIDDEN is covered by
    an empty tmpfs. Yields the scheduler's address and the worker command's process."""
    problem = _unshare_usable()
    assert problem is None, f"this test needs `unshare --mount` as root (util-linux): {problem}"
    scheduler_file = folder / "scheduler.json"
    log = (folder / "worker.log").open("w")
    scheduler = subprocess.Popen([str(BIN / "dask"), "scheduler", "--scheduler-file", str(scheduler_file),
                                  "--port", "0", "--dashboard-address", ":0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.read_text().strip():
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        paths = " ".join(map(str, hidden))  # (a path under one covered already is gone: nothing to cover)
        script = (f"for p in {paths}; do if [ -e $p ]; then mount -t tmpfs hw-remote-private $p || exit 96; fi; done; "
                  f"for p in {paths}; do if [ -e $p ] && [ -n \"$(ls -A $p)\" ]; then exit 97; fi; done; "
                  f"cd / && exec {BIN / 'dask'} worker {address} --nworkers 2 --nthreads 1 "
                  "--preload-nanny hwtools.sandbox.dask_nanny")
        worker = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        yield address, worker
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        log.close()


def _class(folder: Path):
    course = copy_course(folder)
    release_all(course, [ASSIGNMENT])
    build_sample_class(course, [ASSIGNMENT])
    return course


def _comparable(path: Path) -> bytes:
    """A file's bytes; of a notebook or a page, without the random part of the grader's scratch
    folder (in tracebacks); of a notebook, also without the kernel's clock (cells' run times)."""
    data = path.read_bytes()
    if path.suffix not in (".ipynb", ".html"):
        return data
    text = re.sub(r"(/grade-[^/]+-)[A-Za-z0-9_]{8}/", r"\1XXXXXXXX/", data.decode())
    if path.suffix == ".html":
        return text.encode()
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    return json.dumps(notebook, indent=1, sort_keys=True).encode()


def _outcome(course) -> dict:
    """What a TA gets from a run: scores, grades.csv, the autograded files, the feedback pages."""
    with open_gradebook(course) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    export_grades(course)

    def files(base: Path) -> dict:
        return {str(p.relative_to(base)): _comparable(p) for p in sorted(base.rglob("*"))
                if p.is_file() and not p.name.startswith(".hw-grade-")}

    return {"scores": scores, "grades.csv": (course.root / "grades.csv").read_text(),
            "autograded": files(course.autograded), "feedback": files(course.feedback)}


def _difference(name: str, expected: bytes, got: bytes) -> str:
    import difflib

    lines = difflib.unified_diff(expected.decode(errors="replace").splitlines(),
                                 got.decode(errors="replace").splitlines(), "local", "remote", lineterm="", n=1)
    return f"{name} differs:\n" + "\n".join(list(lines)[:60])


def _wait_for_workers(client, count: int, worker, log: Path) -> None:
    deadline = time.monotonic() + 180
    while len(client.scheduler_info()["workers"]) < count:
        assert worker.poll() is None, f"the remote worker ended ({worker.returncode}): {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the remote worker did not join: {log.read_text()[-3000:]}"
        time.sleep(0.5)


def test_a_worker_that_sees_no_course_grades_like_a_local_cluster(tmp_path_factory):
    local = _class(tmp_path_factory.mktemp("local") / "course")
    statuses = {r.student: r.status for r in autograde(local, ASSIGNMENT, workers=2)}
    expected = _outcome(local)

    course = _class(tmp_path_factory.mktemp("remote") / "course")
    folder = tmp_path_factory.mktemp("cluster")
    hidden = sorted({Path("/tmp"), Path("/dev/shm"), course.root.resolve(), Path(os.environ.get("TMPDIR", "/tmp"))})
    with remote_worker(folder, hidden) as (address, worker):
        from dask.distributed import Client

        with Client(address) as client:
            _wait_for_workers(client, 2, worker, folder / "worker.log")

            def worker_view(paths):  # runs on the remote worker
                import tempfile

                from hwtools import sandbox

                root = sandbox.SCRATCH_ROOT
                return {"sees": [p for p in paths if os.path.exists(p)], "tmp": tempfile.gettempdir(),
                        "scratch": sorted(os.listdir(root)) if root.is_dir() else []}

            secret_paths = [str(course.root), str(local.root), str(folder)]
            assert all(not view["sees"] for view in client.run(worker_view, secret_paths).values())
            results = autograde(course, ASSIGNMENT, scheduler=address)
            after = client.run(worker_view, secret_paths)
        assert {r.student: r.status for r in results} == statuses
        got = _outcome(course)
        assert got["scores"] == expected["scores"]
        assert got["grades.csv"] == expected["grades.csv"]
        for kind in ("autograded", "feedback"):
            assert sorted(got[kind]) == sorted(expected[kind])
            for name, data in expected[kind].items():
                assert got[kind][name] == data, _difference(name, data, got[kind][name])
        for view in after.values():  # each grading task deleted its scratch before it returned
            assert not [name for name in view["scratch"] if name.startswith("grade-")], view
