"""hwtools.grading.student: student code runs in a sandboxed process; only plain data comes back."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from hwtools import sandbox
from hwtools.grading.student import StudentCodeProblem, StudentError, StudentModule
from hwtools.grading.wire import Opaque

MODULE = '''
import os, socket, numpy as np
print("students print things")

def double(x, options):
    options["seen"] = True
    x += 1            # in place, on purpose
    return x * 2

def forever():
    while True:
        pass

def leave():
    os._exit(3)

def refuse():
    raise ValueError("bad mode")

class AlwaysEqual:
    def __eq__(self, other):
        return True

def cheat():
    np.allclose = lambda *a, **k: True
    return AlwaysEqual()

def hog():
    return np.ones(4 * 1024 ** 3 // 8 * 3).sum()   # 12 GiB

def environment():
    return dict(os.environ)

def connect():
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=2)
        return "connected"
    except OSError as err:
        return type(err).__name__

answer = 6 * 7
'''


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "student_code.py"
    path.write_text(textwrap.dedent(MODULE))
    with StudentModule(path, timeout_s=5, limits=sandbox.Limits(memory_mb=2048)) as proxy:
        yield proxy


def test_calls_return_values_and_arguments_after_the_call(module):
    call = module.call("double", np.ones(3), {"mode": "train"})
    np.testing.assert_array_equal(call.value, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(call.args_after[0], [2.0, 2.0, 2.0])
    assert call.args_after[1] == {"mode": "train", "seen": True}
    assert module.get("answer") == 42


def test_exceptions_come_back_with_their_type(module):
    with pytest.raises(StudentError) as err:
        module.call("refuse")
    assert err.value.is_a("ValueError") and err.value.is_a("Exception") and "bad mode" in str(err.value)


def test_objects_are_not_trusted(module):
    value = module.call("cheat").value
    assert isinstance(value, Opaque) and "AlwaysEqual" in value.type_name
    assert not np.allclose(np.zeros(2), np.ones(2)), "the patch must stay in the student's process"


def test_an_infinite_loop_times_out_and_the_module_recovers(module):
    with pytest.raises(StudentCodeProblem, match="timed out after 5 s while running forever"):
        module.call("forever")
    assert module.get("answer") == 42


def test_repeated_timeouts_stop_early(module):
    for _ in range(2):
        with pytest.raises(StudentCodeProblem, match="timed out"):
            module.call("forever", timeout_s=1)
    with pytest.raises(StudentCodeProblem, match="not run: your code already timed out"):
        module.call("double", np.ones(1), {})


def test_os_exit_is_reported_and_the_module_recovers(module):
    with pytest.raises(StudentCodeProblem, match=r"ended \(exit code 3\)"):
        module.call("leave")
    assert module.get("answer") == 42


def test_memory_is_capped(module):
    with pytest.raises((StudentError, StudentCodeProblem)) as err:
        module.call("hog")
    assert "MemoryError" in str(err.value) or "memory" in str(err.value)


def test_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET_TOKEN", "s3cret")
    path = tmp_path / "student_code.py"
    path.write_text(textwrap.dedent(MODULE))
    with StudentModule(path) as proxy:
        env = proxy.call("environment").value
    assert "INSTRUCTOR_SECRET_TOKEN" not in env
    assert env["HOME"] != os.environ.get("HOME")


@pytest.mark.skipif(not sandbox.network_isolation_available(), reason="this OS forbids network namespaces")
def test_no_network(module):
    assert module.call("connect").value in ("OSError", "ConnectionRefusedError", "TimeoutError")


def test_missing_and_broken_files_are_explained(tmp_path):
    with pytest.raises(StudentCodeProblem, match="missing from the submission"):
        StudentModule(tmp_path / "absent.py").get("x")
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n    pass\n")
    with pytest.raises(StudentCodeProblem, match="could not load broken.py: SyntaxError"):
        StudentModule(broken).get("f")


def test_notebook_definitions_load_without_running_the_rest(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nraise SystemExit('top-level code must not run')"),
        nbformat.v4.new_code_cell("def area(r):\n    return np.pi * r ** 2\nn_params = 10 * 20 + 20\n%matplotlib inline"),
        nbformat.v4.new_code_cell("model = train_for_hours()"),
        nbformat.v4.new_code_cell("def broken(:"),
    ])
    path = tmp_path / "work.ipynb"
    nbformat.write(notebook, str(path))
    with StudentModule(path) as proxy:
        assert proxy.get("n_params") == 220
        assert proxy.call("area", 1.0).value == pytest.approx(np.pi)
        assert "model" not in proxy.names()
        assert any("SyntaxError in code cell 3" in p for p in proxy.load_problems)


FS_PROBE = '''
import os

def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as err:
        return type(err).__name__

def write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "written"
    except OSError as err:
        return type(err).__name__

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as err:
        return type(err).__name__
'''


@pytest.mark.skipif(sandbox.isolation_problem(True, True) is not None, reason="this OS forbids mount namespaces")
def test_file_system_is_private_and_read_only(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "submitted" / "other_student").mkdir(parents=True)
    (course / "submitted" / "other_student" / "answer.py").write_text("secret answer")
    (course / "gradebook.db").write_text("grades")
    (course / "source").mkdir()
    monkeypatch.setenv("HW_COURSE_ROOT", str(course))
    outside = tmp_path / "outside.txt"
    student_dir = tmp_path / "student"
    student_dir.mkdir()
    (student_dir / "probe.py").write_text(FS_PROBE)
    unseen = ("", [], "FileNotFoundError", "PermissionError")  # hidden by an empty mount, or out of the uid's reach
    with StudentModule(student_dir / "probe.py") as other, StudentModule(student_dir / "probe.py") as proxy:
        other.call("write", "neighbours-answer.txt")
        assert proxy.call("read", str(course / "gradebook.db")).value in unseen
        assert proxy.call("listing", str(course / "submitted")).value in unseen
        assert proxy.call("read", str(course / "submitted" / "other_student" / "answer.py")).value in unseen
        assert proxy.call("listing", str(course / "source")).value in unseen
        assert "neighbours-answer.txt" not in str(proxy.call("listing", str(other.workspace)).value)
        assert proxy.call("write", str(outside)).value in ("OSError", "PermissionError", "FileNotFoundError")
        assert proxy.call("write", "/usr/local/planted.txt").value in ("OSError", "PermissionError")
        assert proxy.call("write", "own-file.txt").value == "written"
        assert proxy.call("write", "/dev/shm/scratch.txt").value == "written"
    assert not outside.exists()
    assert (course / "gradebook.db").read_text() == "grades"
    assert not Path("/usr/local/planted.txt").exists() and not Path("/dev/shm/scratch.txt").exists()


def test_numpy_scalars_keep_their_shape():
    from hwtools.grading import wire

    for value in (np.float64(0.5), np.int64(3), np.array(2.0)):
        assert wire.decode(wire.encode(value)).shape == ()


needs_groups = pytest.mark.skipif(not sandbox.process_groups_available(),
                                  reason="no control groups here (the sandbox logs that fork bombs are not contained)")


def _sandboxed_python(tmp_path, code: str, **limits):
    box = sandbox.make_scratch("test-")  # a sandbox writes only in a scratch folder, which its uid owns
    return sandbox.popen([sys.executable, "-c", textwrap.dedent(code)], cwd=box, env=sandbox.scrubbed_env(box),
                         limits=sandbox.Limits(**limits), stdout=subprocess.PIPE, text=True)


@needs_groups
def test_a_fork_bomb_is_capped_and_stopped_while_its_parent_goes_on(tmp_path):
    process = _sandboxed_python(tmp_path, """
        import subprocess, sys
        bomb = subprocess.Popen([sys.executable, "-c", "import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass"])
        print("bomb ended", bomb.wait(), flush=True)
        """, max_tasks=48)
    group, stopped, deadline = process.hw_group, False, time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        stopped = stopped or sandbox.stop_bomb(process)
        time.sleep(0.1)
    peak = int((group.folders[0] / "pids.peak").read_text())
    sandbox.kill_group(process)
    assert stopped and process.stdout.read().strip() == "bomb ended -9"
    assert process.returncode == 0 and peak <= 48
    assert not group.folders[0].exists()


@needs_groups
def test_nothing_a_sandboxed_process_started_outlives_it(tmp_path):
    """A child that left the process group (a session of its own) dies with the sandbox's PID 1:
    its PID namespace ends with it."""
    process = _sandboxed_python(tmp_path, """
        import subprocess
        print(subprocess.Popen(["sleep", "300"], start_new_session=True).pid, flush=True)
        """)
    assert int(process.stdout.readline()) > 1  # a pid of the sandbox's own namespace
    process.wait()
    group, deadline = process.hw_group, time.monotonic() + 10
    while group.processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group.processes() == []
    sandbox.kill_group(process)


@needs_groups
def test_a_fork_bomb_in_a_function_is_named_as_such(tmp_path):
    path = tmp_path / "bomb.py"
    path.write_text("import os\n\ndef explode():\n    while True:\n        try:\n            os.fork()\n"
                    "        except OSError:\n            pass\n\ndef segfault():\n    import ctypes\n"
                    "    return ctypes.string_at(0)\n")
    with StudentModule(path, timeout_s=600, limits=sandbox.Limits(max_tasks=40)) as module:  # stopped long before
        with pytest.raises(StudentCodeProblem, match=r"more than 40 processes and threads at once while running explode\(\)"):
            module.call("explode")
        with pytest.raises(StudentCodeProblem, match="exit code -11, SIGSEGV: a crash"):
            module.call("segfault")
