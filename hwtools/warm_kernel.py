"""Warm kernels: the sandboxed nbgrader run forks, at its start, a helper that holds the warm
server's libraries (TensorFlow, Keras, torch, ipykernel) and forks each notebook kernel from
it, instead of a fresh ``python -m ipykernel_launcher`` that imports them again (~5 s for a
TensorFlow notebook). Helper and kernels stay in the run's sandbox (its control group,
namespaces and limits); nothing leaves it.

A kernel is set up as jupyter_client would start it: a session of its own, its folder and
environment, no stdin, the folder first on ``sys.path``, and matplotlib's inline backend as
ipykernel chooses it. A notebook that sets environment variables (which libraries read when
they are imported) gets a fresh kernel, as it would in the student's Jupyter.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path

KERNEL_MODULE = "ipykernel_launcher"
# what makes a notebook depend on the state in which libraries are imported
_IMPORT_STATE = ("os.environ", "putenv", "%env", "set_backend")


def suits(notebooks: list[Path]) -> bool:
    """Whether these notebooks may run in warm kernels."""
    try:
        return not any(marker in path.read_text(errors="replace") for path in notebooks for marker in _IMPORT_STATE)
    except OSError:
        return False


# helper side ------------------------------------------------------------------------------
def _kernel(request: dict, started: int) -> None:
    """In the forked kernel: become ``python -m ipykernel_launcher ARGS``; never returns."""
    from hwtools._warm_server import become, take_environment

    def prepare() -> None:
        os.setsid()
        os.write(started, b"1")
        os.close(started)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        take_environment(request["env"])
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        if "matplotlib" in sys.modules:  # imported under the server's backend: take the kernel's
            sys.modules["matplotlib"].rcParams["backend"] = os.environ["MPLBACKEND"]
        # the notebook's folder, where IPython puts it (its own init_path skips it: the server runs with -I)
        index = next((i for i, path in enumerate(sys.path)
                      if os.path.basename(path) in ("site-packages", "dist-packages")), 0)
        sys.path.insert(index, "")

    become(KERNEL_MODULE, request["args"], prepare)


def _serve(channel: socket.socket) -> None:
    """Fork a kernel per request; report each one's pid, and its exit code when it ends."""
    from hwtools._warm_server import reaped

    children: set[int] = set()
    buffer = b""
    while True:
        for pid, code in reaped():
            children.discard(pid)
            channel.sendall(json.dumps({"exit": pid, "code": code}).encode() + b"\n")
        if not select.select([channel], [], [], 0.05)[0]:
            continue
        chunk = channel.recv(1 << 20)
        if not chunk:
            break  # the nbgrader run is over
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            sys.stdout.flush()
            sys.stderr.flush()
            ready, started = os.pipe()
            pid = os.fork()
            if pid == 0:
                channel.close()
                os.close(ready)
                _kernel(json.loads(line), started)
            os.close(started)
            os.read(ready, 1)  # its session exists: jupyter_client signals the kernel's process group
            os.close(ready)
            children.add(pid)
            channel.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# nbgrader side ----------------------------------------------------------------------------
class KernelProcess:
    """What jupyter_client's LocalProvisioner uses of a Popen, for a kernel of the helper."""
    stdin = stdout = stderr = None

    def __init__(self, forker: "KernelForker", pid: int):
        self._forker, self.pid, self.returncode = forker, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._forker.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class KernelForker:
    """Start it while the process is still single-threaded (fork is safe only then)."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                _serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.channel, self.buffer, self.codes = pid, ours, b"", {}

    def _read(self, timeout: float | None) -> list[dict]:
        if select.select([self.channel], [], [], timeout)[0]:
            chunk = self.channel.recv(1 << 20)
            if not chunk:
                raise OSError("the kernel helper is gone")
            self.buffer += chunk
        messages = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            message = json.loads(line)
            if "exit" in message:
                self.codes[message["exit"]] = message["code"]
            else:
                messages.append(message)
        return messages

    def exit_code(self, pid: int) -> int | None:
        try:
            self._read(0)
        except OSError:
            return self.codes.get(pid, -signal.SIGKILL)  # the helper died, and its kernels with it
        return self.codes.get(pid)

    def launch(self, args: list[str], cwd: str, env: dict) -> KernelProcess:
        self.channel.sendall(json.dumps({"args": args, "cwd": cwd, "env": env}).encode() + b"\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for message in self._read(1):
                return KernelProcess(self, message["pid"])
        raise OSError("the kernel helper did not answer")


def install(forker: KernelForker) -> None:
    """Make jupyter_client's local provisioner start ``python -m ipykernel_launcher`` kernels
    through ``forker`` (any other command, or a dead helper: as before)."""
    from jupyter_client.provisioning import local_provisioner

    cold = local_provisioner.launch_kernel

    def launch_kernel(cmd, **kwargs):
        if cmd[:3] == [sys.executable, "-m", KERNEL_MODULE]:
            try:
                return forker.launch(cmd[3:], str(kwargs.get("cwd") or os.getcwd()),
                                     dict(kwargs.get("env") or os.environ))
            except OSError:
                pass
        return cold(cmd, **kwargs)

    local_provisioner.launch_kernel = launch_kernel
