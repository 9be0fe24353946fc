"""Least privilege for student code (issue 17, deliverable 1 and 3), tried as an attacker would:
from a notebook cell (the kernel, graded by ``hw``'s whole pipeline) and from a function the
hidden suite calls (the student worker). Each probe reports what it could do; the grader ran
as root with every capability, with secrets in its environment and a loopback listener, and a
good student graded in the same class keeps its score.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import copy_course, hidden_suite_environment, submit_source_solution
from hwtools import sandbox

SECRETS = {"PGPASSWORD": "pg-s3cret-4711", "JUPYTERHUB_API_TOKEN": "hub-t0ken-4711",
           "HW_GRADER_SECRET": "grader-s3cret-4711"}

PROBE = '''
import ctypes, glob, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)

def _try(action):
    try:
        return action()
    except Exception as err:
        return type(err).__name__

def _errno(result):
    return ctypes.get_errno() if result != 0 else 0

def _read(path):
    with open(path, "rb") as handle:
        return handle.read(200000).decode(errors="replace")

def _connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return "connected"

def _shm():
    written = 0
    with open("/dev/shm/fill", "wb") as handle:
        try:
            while written < 1024:
                handle.write(b"x" * (1 << 20))
                handle.flush()
                written += 1
        except OSError:
            pass
    os.remove("/dev/shm/fill")
    return written

def _scratch_sources():
    """Files of a source/batchnorm folder in any folder above this one (the scratch course)."""
    found, folder = [], os.getcwd()
    while folder != "/":
        source = os.path.join(folder, "source", "batchnorm")
        if os.path.isdir(source):
            found += [os.path.join(source, name) for name in os.listdir(source)]
        folder = os.path.dirname(folder)
    return found

def _unix(path):
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(path)
        return "connected"

def _bundled(bundles):
    """The solutions and hidden suites in the course bundles a worker unpacked (on this machine)."""
    return sorted(glob.glob(os.path.join(bundles, "*", "source", "*", "*")) +
                  glob.glob(os.path.join(bundles, "*", "tests", "hidden", "*", "*")))

def probe(grader_pid, port, course, sibling, bundles="/nonexistent"):
    status = dict(line.split(":", 1) for line in _read("/proc/self/status").splitlines() if ":" in line)
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    environs = [_try(lambda p=p: _read(f"/proc/{p}/environ")) for p in pids]
    return {
        "uid": os.getuid(), "euid": os.geteuid(),
        "capabilities": [status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")],
        "no_new_privs": status["NoNewPrivs"].strip(),
        "pids": pids, "grader_visible": os.path.exists(f"/proc/{grader_pid}"),
        "signal_grader": _try(lambda: os.kill(grader_pid, 0)),
        "umount": _errno(libc.umount2(b"/tmp", 2)),
        "remount_root_rw": _errno(libc.mount(None, b"/", None, ctypes.c_ulong(32 | 4096), None)),
        "unshare_user": _errno(libc.unshare(0x10000000)),
        "setuid_root": _try(lambda: os.setuid(0)),
        "grader_root": _try(lambda: os.listdir(f"/proc/{grader_pid}/root/")),
        "course": _try(lambda: os.listdir(course)),
        "hidden_suite": _try(lambda: _read(os.path.join(course, "tests", "hidden", "batchnorm", "test_batchnorm_forward.py"))),
        "solution": _try(lambda: _read(os.path.join(course, "source", "batchnorm", "forward_batchnorm.py"))),
        "write_course": _try(lambda: open(os.path.join(course, "planted.txt"), "w").close()),
        "connect": _try(lambda: _connect(port)),
        "sibling_course": _try(lambda: _read(os.path.join(sibling, "gradebook.db"))),
        "unix_socket": _try(lambda: _unix(os.path.join(sibling, "service.sock"))),
        "accounts": _read("/etc/passwd").splitlines(),
        "scratch_source": _try(_scratch_sources),
        "bundled": _try(lambda: _bundled(bundles)),
        "environment": dict(os.environ), "environs": environs,
        "shm_mb": _shm(),
    }
'''


@pytest.fixture(scope="module")
def sibling_course(tmp_path_factory):
    """Another course on the machine, world-readable, with a service socket anyone may use."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="hw-test-sibling-"))
    folder.chmod(0o755)
    (folder / "gradebook.db").write_text("every student's email")
    (folder / "gradebook.db").chmod(0o644)
    service = socket.socket(socket.AF_UNIX)
    service.bind(str(folder / "service.sock"))
    service.listen(1)
    (folder / "service.sock").chmod(0o777)
    yield folder
    service.close()
    shutil.rmtree(folder)


def _listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    return server


def assert_contained(facts: dict, course) -> None:
    assert facts["uid"] == facts["euid"] != 0 and facts["uid"] != os.getuid()
    assert facts["capabilities"] == ["0000000000000000"] * 5
    assert facts["no_new_privs"] == "1"
    assert facts["pids"][0] == 1 and not facts["grader_visible"]  # its own PID namespace and /proc
    assert facts["signal_grader"] == "ProcessLookupError"
    assert facts["umount"] != 0 and facts["remount_root_rw"] != 0
    assert facts["unshare_user"] != 0 and facts["setuid_root"] in ("PermissionError", "OSError")  # (0 is not even mapped)
    assert facts["grader_root"] in ("FileNotFoundError", "PermissionError")
    assert facts["course"] in ([], "FileNotFoundError", "PermissionError")
    assert facts["hidden_suite"] in ("FileNotFoundError", "PermissionError")
    assert facts["solution"] in ("FileNotFoundError", "PermissionError")
    assert facts["write_course"] in ("FileNotFoundError", "PermissionError", "OSError")
    assert facts["scratch_source"] == []  # the solutions are not in the scratch course either
    assert facts["bundled"] in ([], "FileNotFoundError", "PermissionError")  # nor in the worker's bundles
    assert facts["sibling_course"] == "FileNotFoundError"  # world-readable, but not in the sandbox's root
    assert facts["unix_socket"] == "FileNotFoundError"  # a service's socket that anyone may connect to
    assert [line.split(":")[0] for line in facts["accounts"]] == ["root", "student"]
    assert facts["connect"] in ("ConnectionRefusedError", "OSError", "TimeoutError")
    text = json.dumps(facts)
    assert not any(secret in text for secret in SECRETS.values())
    assert facts["shm_mb"] <= sandbox.Limits().shm_mb
    assert not (course.root / "planted.txt").exists()


@pytest.fixture
def grader_secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def test_a_function_the_hidden_suite_calls_is_contained(course, grader_secrets, sibling_course, monkeypatch):
    from hwtools.grading.student import StudentModule

    monkeypatch.setenv("HW_COURSE_ROOT", str(course.root))  # as the hidden runner sets it
    folder = sandbox.make_scratch("test-probe-")
    (folder / "probe.py").write_text(PROBE)
    server = _listener()
    with StudentModule(folder / "probe.py", timeout_s=60) as module:
        facts = module.call("probe", os.getpid(), server.getsockname()[1], str(course.root), str(sibling_course)).value
    server.close()
    assert_contained(facts, course)


def _notebook_with(course, student: str, cell: str):
    folder = submit_source_solution(course, "batchnorm", student)
    path = folder / "batchnorm.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(cell))
    nbformat.write(notebook, str(path))
    return folder


def _outputs(course, student: str) -> str:
    notebook = nbformat.read(str(course.autograded_dir(student, "batchnorm") / "batchnorm.ipynb"), as_version=4)
    return "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory, sibling_course):
    """The reference solution, an escaping kernel, a kernel that kills every process it may
    (kill -1), and one that signals its parents, graded in one run by ``hw``'s pipeline with
    secrets in the grader's environment and a loopback listener outside the sandbox."""
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all
    from hwtools.grading.task import bundle_root

    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():
            patch.setenv(name, value)
        course = copy_course(tmp_path_factory.mktemp("hostile_sandbox"))
        release_all(course, ["batchnorm"])
        submit_source_solution(course, "batchnorm", "reference_solution")
        server = _listener()
        probe = textwrap.dedent(PROBE) + (f"\nprint('HW-PROBE ' + json.dumps(probe({os.getpid()}, "
                                          f"{server.getsockname()[1]}, {str(course.root)!r}, {str(sibling_course)!r}, "
                                          f"{str(bundle_root())!r})))")
        _notebook_with(course, "mallory_escape", probe)
        _notebook_with(course, "mallory_kill_all", "import os\nos.kill(-1, 9)\nprint('still here')")
        _notebook_with(course, "mallory_kill_parents", "import os, signal\nfor pid in (0, 1, os.getppid()):\n"
                                                       "    try:\n        os.kill(pid, signal.SIGKILL)\n"
                                                       "    except OSError:\n        pass")
        results = {r.student: r for r in autograde(course, "batchnorm", workers=2)}
        try:
            connected = server.accept()
        except OSError:
            connected = None
        server.close()
    return course, results, connected


def test_a_notebook_kernel_is_contained(hostile_class):
    course, results, connected = hostile_class
    line = next(l for l in _outputs(course, "mallory_escape").splitlines() if l.startswith("HW-PROBE "))
    assert_contained(json.loads(line[len("HW-PROBE "):]), course)
    # (the bundle the worker graded it from holds them, on this very machine: hidden, not absent)
    from hwtools.grading.task import bundle_root

    assert list(bundle_root().glob("*/source/batchnorm/forward_batchnorm.py"))
    assert list(bundle_root().glob("*/tests/hidden/batchnorm/test_*.py"))
    assert connected is None  # the loopback listener outside the sandbox got no connection


def test_killing_from_a_kernel_stops_nothing_but_itself(hostile_class):
    course, results, _ = hostile_class
    assert results["reference_solution"].score == 15.0  # (the two written answers wait for a TA)
    for student in ("mallory_kill_all", "mallory_kill_parents"):  # their other files are still graded
        assert results[student].status == "failed" and results[student].score == 15.0
        assert "killed" in results[student].reason or "died" in results[student].reason
        assert (course.feedback / student / "batchnorm").is_dir()


def test_without_a_sandbox_student_code_does_not_run(course, monkeypatch):
    """Where the machine cannot contain it, ``hw autograde`` refuses in one line, saying what is
    missing, and grades nothing; the TA may say the code is trusted."""
    from hwtools import cli
    from hwtools.course.release import release_all

    sandbox.isolation_problem.cache_clear()
    monkeypatch.setattr(sandbox.isolation, "probe", lambda plan: "needs root (for the test)")
    monkeypatch.chdir(course.root)
    release_all(course, ["batchnorm"])  # (else hw says so first)
    submit_source_solution(course, "batchnorm")
    try:
        with pytest.raises(SystemExit, match=r"^hw: cannot contain student code on this machine: needs root .*"
                                             r"--trusted-code"):
            cli.main(["autograde", "batchnorm"])
        assert not course.autograded.exists()
        monkeypatch.setenv(sandbox.TRUSTED_VARIABLE, "1")
        sandbox.require_sandbox()
    finally:
        sandbox.isolation_problem.cache_clear()



FILL = '''
import os
written = 0
try:
    for index in range(10000):
        with open(f"fill-{index}.bin", "wb") as handle:
            handle.write(b"x" * (8 << 20))
        written += 8
except OSError:
    pass
print("filled", written, "MB")
'''


def test_a_notebook_that_fills_its_scratch_fails_alone(tmp_path_factory, monkeypatch):
    """Its run may write HW_SCRATCH_MB (a tmpfs of its own): filling it fails that submission
    with the reason, the machine's disk keeps its room, the good student keeps its score, and
    no scratch mount or folder is left behind."""
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all

    monkeypatch.setattr(sandbox, "SCRATCH_MB", 96)
    course = copy_course(tmp_path_factory.mktemp("fill_class"))
    release_all(course, ["batchnorm"])
    submit_source_solution(course, "batchnorm", "reference_solution")
    _notebook_with(course, "mallory_fills_disk", FILL)
    free_before = os.statvfs(sandbox.SCRATCH_ROOT).f_bavail * os.statvfs(sandbox.SCRATCH_ROOT).f_frsize
    results = {r.student: r for r in autograde(course, "batchnorm", workers=2)}
    assert results["reference_solution"].score == 15.0
    filler = results["mallory_fills_disk"]
    assert filler.status == "failed" and "filled the 96 MB" in filler.reason
    assert filler.score == 15.0  # its forward_batchnorm.py is still graded by the hidden suite
    free_after = os.statvfs(sandbox.SCRATCH_ROOT).f_bavail * os.statvfs(sandbox.SCRATCH_ROOT).f_frsize
    assert free_after > free_before - (64 << 20)
    assert "grade-mallory_fills_disk-" not in open("/proc/self/mounts").read()
    assert not list(sandbox.SCRATCH_ROOT.glob("grade-mallory_fills_disk-*"))


def test_a_function_that_fills_its_scratch_is_stopped_there(monkeypatch):
    from hwtools.grading.student import StudentModule

    monkeypatch.setattr(sandbox, "SCRATCH_MB", 64)
    folder = sandbox.make_scratch("test-fill-")
    (folder / "filler.py").write_text("def fill():\n" + textwrap.indent(FILL, "    ") + "    return written\n")
    with StudentModule(folder / "filler.py", timeout_s=60) as module:
        assert module.call("fill").value <= 64
        workdir = module.workspace.parent
    assert not workdir.exists() and str(workdir) not in open("/proc/self/mounts").read()


def test_a_dead_warm_server_is_a_grader_crash_never_a_score(course):
    """When the shared warm server dies under a hidden suite, the submission is not scored (the
    driver reports a grader error and the next run grades it again), rather than losing the
    hidden points."""
    import threading
    import time

    from hwtools.grading import hidden_runner

    from hwtools.sandbox import warm

    if not warm.enabled():
        pytest.skip("HW_WARM=0: no warm server to die")
    files = sandbox.make_scratch("test-files-")
    marker = files / "suite-started"
    suite = course.hidden_tests / "sleepy"
    suite.mkdir(parents=True)
    (suite / "test_sleepy.py").write_text(f"import time\n\ndef test_waits():\n    open({str(marker)!r}, 'w').close()\n"
                                          "    time.sleep(60)\n")
    outcome = {}

    def run():
        try:
            outcome["result"] = hidden_runner.run_hidden_suite(course, "sleepy", files, timeout_s=120)
        except warm.ServerDied as err:
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:  # forked from the server, and running
        time.sleep(0.1)
    servers = [s for s in warm._servers.values() if getattr(s, "process", None) is not None]
    assert marker.exists() and servers
    for server in servers:
        server.process.kill()
    thread.join(timeout=120)
    assert isinstance(outcome.get("error"), warm.ServerDied), outcome


def test_the_hidden_suite_gets_no_credentials(course, grader_secrets, monkeypatch):
    """The hidden suite loads students' saved models and files: it runs with the course's
    settings, never the grader's database URL, tokens or passwords."""
    monkeypatch.setenv("HW_DB_URL", "postgresql+psycopg://grader:db-s3cret-4711@localhost/gradebook")
    environment = hidden_suite_environment(course)
    assert environment["HW_MODE"] and environment["HW_COURSE_ROOT"] == str(course.root)
    text = json.dumps(environment)
    assert "db-s3cret-4711" not in text and not any(secret in text for secret in SECRETS.values())
