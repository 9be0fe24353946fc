"""The warm fork server (hwtools.sandbox.warm): its children are set up like fresh sandboxed
processes, whatever the server holds, and it goes when its grader goes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hwtools import sandbox

from hwtools.sandbox import warm
from hwtools.grading.student import StudentCodeProblem, StudentModule

PROBE = '''
import os, tempfile

def environment():
    return dict(os.environ)

def environ_block():
    return open("/proc/self/environ", "rb").read().decode(errors="replace")

def temp_dir():
    return tempfile.gettempdir()

def pipes_and_sockets():
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor
            pass
    return sorted(link.split(":")[0] for link in links if link.startswith(("pipe:", "socket:")))

def allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))

def leave(code):
    os._exit(code)
'''


def _module(tmp_path: Path, name: str = "probe.py", **limits) -> StudentModule:
    path = tmp_path / name
    path.write_text(textwrap.dedent(PROBE))
    return StudentModule(path, timeout_s=60, limits=sandbox.Limits(**limits) if limits else None)


def test_a_warm_child_sees_only_its_own_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HW_INSTRUCTOR_TOKEN", "s3cret")
    with _module(tmp_path) as probe:
        environment = probe.call("environment").value
        assert isinstance(probe._process, warm.WarmProcess)
        assert "HW_INSTRUCTOR_TOKEN" not in environment and "s3cret" not in probe.call("environ_block").value
        assert environment["HOME"] == str(probe.workspace.parent)
        assert probe.call("temp_dir").value == str(probe.workspace.parent)


def test_a_warm_child_holds_no_other_childs_pipes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with _module(tmp_path / "a") as first, _module(tmp_path / "b") as second:
        assert first.call("pipes_and_sockets").value == ["pipe", "pipe"]  # its requests and its replies
        assert second.call("pipes_and_sockets").value == ["pipe", "pipe"]


def test_the_memory_cap_counts_what_the_child_maps_beyond_the_preloaded_libraries(tmp_path):
    with _module(tmp_path, memory_mb=1024) as probe:
        assert probe.call("allocate", 300).value == 300 * 1024 * 1024
        with pytest.raises(StudentCodeProblem, match="MemoryError"):
            probe.call("allocate", 1500)


def test_exit_codes_and_signals_come_back(tmp_path):
    with _module(tmp_path) as probe:
        with pytest.raises(StudentCodeProblem, match=r"exit code 3\b"):
            probe.call("leave", 3)
    script = tmp_path / "crash.py"
    script.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    with StudentModule(script) as crash, pytest.raises(StudentCodeProblem, match="exit code -11, SIGSEGV"):
        crash.get("anything")


def test_a_dead_server_is_replaced(tmp_path):
    with _module(tmp_path) as probe:
        probe.call("temp_dir")
    for server in list(warm._servers.values()):
        server.process.kill()
        server.process.wait()
    waited = warm.waited()
    with _module(tmp_path) as probe:
        assert probe.call("temp_dir").value == str(probe.workspace.parent)
        assert isinstance(probe._process, warm.WarmProcess)  # forked by a new server at once
    # the first fork waited for the new server's imports (seconds), which grading does not count
    # as the submission's own time (hwtools.grading.grade)
    assert warm.waited() - waited > 1.0


def test_without_warm_processes_the_child_is_a_fresh_interpreter(tmp_path, monkeypatch):
    monkeypatch.setenv("HW_WARM", "0")
    monkeypatch.setenv("HW_INSTRUCTOR_TOKEN", "s3cret")
    with _module(tmp_path) as probe:
        assert "HW_INSTRUCTOR_TOKEN" not in probe.call("environment").value
        assert isinstance(probe._process, subprocess.Popen)
        assert probe.call("temp_dir").value == str(probe.workspace.parent)


GRADER = '''
import sys, threading, time
from pathlib import Path
from hwtools.sandbox import warm
from hwtools.grading.student import StudentModule
module = StudentModule(Path(sys.argv[1]), timeout_s=600)
module.get("x")
threading.Thread(target=module.call, args=("nap",), daemon=True).start()  # busy: it reads no requests
time.sleep(1)
server = next(iter(warm._servers.values()))
print(server.process.pid, module._process.pid, flush=True)
time.sleep(600)
'''


def test_the_server_and_its_children_go_when_the_grader_is_killed(tmp_path):
    (tmp_path / "m.py").write_text("import time\nx = 1\ndef nap():\n    time.sleep(600)\n")
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(tmp_path / "m.py")], stdout=subprocess.PIPE,
                              text=True)
    server, child = map(int, grader.stdout.readline().split())
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in (server, child)):
        time.sleep(0.2)
    assert not _alive(server) and not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


SUITE = '''
from pathlib import Path
from hwtools.sandbox import warm
from hwtools.grading.student import StudentModule

def test_student_workers_of_a_hidden_suite_are_forked_by_the_same_server(tmp_path):
    (tmp_path / "m.py").write_text(
        "import sys\\nx = 1\\n"
        "def loaded():\\n    return [getattr(m, '__file__', None) or '' for m in list(sys.modules.values())]\\n")
    with StudentModule(tmp_path / "m.py") as module:
        assert module.get("x") == 1
        assert isinstance(module._process, warm.WarmProcess)
        # forked from the server, not from this suite: nothing of the suite is in its memory
        assert __file__ not in module.call("loaded").value
    assert list(warm._servers) == [("given",)]  # no server of its own
'''


def test_a_hidden_suite_forks_its_student_workers_through_its_server(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    with open(tmp_path / "log", "w+") as log:
        process = sandbox.start_module("pytest", ["-q", "-p", "no:cacheprovider", str(tmp_path / "test_suite.py")],
                                       cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        assert isinstance(process, warm.WarmProcess)
        code = process.wait(timeout=300)
        log.seek(0)
        assert code == 0, log.read()[-3000:]


LEAVING_SUITE = '''
import threading, time
from pathlib import Path
from hwtools.grading.student import StudentModule

def test_leaves_a_busy_worker_behind(tmp_path):
    (tmp_path / "m.py").write_text("import time\\ndef nap():\\n    time.sleep(600)\\n")
    module = StudentModule(tmp_path / "m.py", timeout_s=600)
    module.names()
    threading.Thread(target=module.call, args=("nap",), daemon=True).start()
    time.sleep(1)
    Path({pid_file!r}).write_text(str(module._process.pid))
'''


def test_student_workers_a_hidden_suite_leaves_running_end_with_it(tmp_path):
    pid_file = tmp_path / "worker.pid"
    (tmp_path / "test_leaving.py").write_text(LEAVING_SUITE.format(pid_file=str(pid_file)))
    process = sandbox.start_module("pytest", ["-q", "-p", "no:cacheprovider", str(tmp_path / "test_leaving.py")],
                                   cwd=tmp_path, env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert process.wait(timeout=300) == 0
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.2)
    assert not _alive(worker)


KERNEL_SUITE = '''
import os, sys
import nbformat
from nbclient import NotebookClient
from hwtools.sandbox import warm_kernel

CELLS = [
    "import os, sys, time; started = time.monotonic(); import tensorflow; imported = time.monotonic() - started",
    "print('' in sys.path, os.getpgid(0) == os.getpid(), 'ipykernel' in sys.modules, imported < 1)",
    "import helper; print(helper.VALUE)",
    "import matplotlib.pyplot as plt; plt.plot([1, 2, 3]); plt.show()",
]

def test_notebook_kernels_are_forked_warm(tmp_path):
    assert "tensorflow" in sys.modules  # forked from the warm server
    forker = warm_kernel.KernelForker()
    warm_kernel.install(forker)
    (tmp_path / "helper.py").write_text("VALUE = 'from the notebook folder'\\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert outputs[1][0]["text"].split() == ["True"] * 4
    assert outputs[2][0]["text"].strip() == "from the notebook folder"
    assert any("image/png" in out.get("data", {}) for out in outputs[3]), outputs[3]
'''


def test_a_sandboxed_nbgrader_run_forks_its_kernels_warm(tmp_path):
    (tmp_path / "test_kernel.py").write_text(KERNEL_SUITE)
    with open(tmp_path / "log", "w+") as log:
        process = sandbox.start_module("pytest", ["-q", "-p", "no:cacheprovider", str(tmp_path / "test_kernel.py")],
                                       cwd=tmp_path, env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
                                       stdout=log, stderr=subprocess.STDOUT)
        code = process.wait(timeout=300)
        log.seek(0)
        assert code == 0, log.read()[-4000:]


def test_notebooks_that_set_the_environment_get_fresh_kernels(tmp_path):
    from hwtools.sandbox import warm_kernel

    plain, setting = tmp_path / "plain.ipynb", tmp_path / "setting.ipynb"
    plain.write_text('{"cells": [{"source": "import keras"}]}')
    setting.write_text('{"cells": [{"source": "import os\\nos.environ[\\"KERAS_BACKEND\\"] = \\"torch\\"\\nimport keras"}]}')
    assert warm_kernel.suits([plain]) and not warm_kernel.suits([plain, setting])


SHARING_GRADER = '''
import sys
from pathlib import Path
from hwtools.sandbox import warm
from hwtools.grading.student import StudentModule
with StudentModule(Path(sys.argv[1])) as module:
    module.get("x")
    parent = int(Path(f"/proc/{module._process.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    print(parent, [key[0] for key in warm._servers], flush=True)
'''


def test_graders_started_while_a_server_is_shared_fork_from_it(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n")
    value = warm.share(*sandbox._warm_server_env())
    try:
        shared = warm._servers[("listening", value.rpartition("#")[0])].process.pid
        for variable, uses_it in ((value, True), (value.rpartition("#")[0] + "#another-environment", False)):
            done = subprocess.run([sys.executable, "-c", SHARING_GRADER, str(tmp_path / "m.py")], text=True,
                                  capture_output=True, env=dict(os.environ, **{warm.SHARED_VARIABLE: variable}))
            parent, kinds = done.stdout.split(" ", 1)
            assert (int(parent) == shared) == uses_it, done.stderr[-2000:]
            assert ("'shared'" in kinds) == uses_it  # else it started a server of its own
    finally:
        warm.stop_sharing(value)
    assert not _alive(shared)
