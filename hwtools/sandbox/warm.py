"""Warm processes, the grader's side (the server is ``hwtools.sandbox._warm_server``): a fork server
per grading process imports the heavy libraries once (TensorFlow, Keras, torch, pytest,
nbgrader: about 6 s on the 2-core machine of benchmarks/RESULTS.md) and forks a fresh child for every
sandboxed nbgrader run, student worker and hidden suite. Each of those used to start a new
interpreter and pay the imports again, two or three times per submission.

A child is set up exactly as a new process would be: its standard streams, its folder, then
the sandbox (control group, namespaces, rlimits, its own session), then its environment, and
only then the module runs (``python -m MODULE ARGS`` as ``runpy`` runs it). The server holds
nothing but imported libraries: it starts with a scrubbed environment, never runs student
code, and closes every other child's descriptors in each child. ``HW_WARM=0`` turns it off;
where the server cannot start, the sandbox logs it and starts fresh interpreters instead.
"""
from __future__ import annotations

import atexit
import os
import pickle
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

START_TIMEOUT_S = 600
CHANNEL_VARIABLE = "HW_WARM_CHANNEL"  # "fd:pid": the server's channel given to that process
SHARED_VARIABLE = "HW_WARM_SOCKET"  # "path#digest": a server shared by this machine's graders


def enabled() -> bool:
    return os.environ.get("HW_WARM", "1") != "0"


class ServerDied(RuntimeError):
    """The warm server died while its child ran: the child's end says nothing about the
    submission (the grader's crash, never a score)."""


class WarmProcess:
    """What ``subprocess.Popen`` offers the graders (and jupyter_client), for a child of a fork
    server."""
    stderr = None
    server_died = False

    def __init__(self, pid: int, status_fd: int, stdin=None, stdout=None):
        self.pid, self._status_fd = pid, status_fd
        self.stdin, self.stdout, self.returncode = stdin, stdout, None

    def _collect(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        if not select.select([self._status_fd], [], [], timeout)[0]:
            return False
        text = os.read(self._status_fd, 64).decode()
        os.close(self._status_fd)
        self.server_died = not text  # the server died, and took its children
        self.returncode = int(text) if text else -signal.SIGKILL
        if self.stdin is not None:
            try:
                self.stdin.close()
            except OSError:
                pass
        return True

    def poll(self) -> int | None:
        self._collect(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._collect(timeout):
            raise subprocess.TimeoutExpired(f"warm child {self.pid}", timeout)
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


class _Channel:
    """A connection to a server: the one this process started, or one it was given."""

    def __init__(self, channel: socket.socket):
        self.channel, self.owner, self.lock = channel, os.getpid(), threading.Lock()

    def alive(self) -> bool:
        return self.owner == os.getpid()

    def fork(self, request: dict, fds: list[int]) -> int:
        global _waited
        started = time.monotonic()
        with self.lock:
            self.channel.settimeout(START_TIMEOUT_S)
            socket.send_fds(self.channel, [pickle.dumps(request)], fds)
            reply = self.channel.recv(64)
        with _lock:
            _waited += time.monotonic() - started
        if not reply:
            raise OSError("the warm server ended")
        return int(reply)

    def close(self) -> None:
        self.channel.close()


class _Server(_Channel):
    def __init__(self, env: dict, cwd: str, listen: str | None = None):
        os.makedirs(cwd, exist_ok=True)  # (a dead server it replaces removed it)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen([sys.executable, "-I", "-m", "hwtools.sandbox._warm_server", str(theirs.fileno()),
                                         str(os.getpid()), *([listen] if listen else [])],
                                        pass_fds=[theirs.fileno()], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs.close()
        super().__init__(ours)
        self.cwd = cwd

    def alive(self) -> bool:
        return super().alive() and self.process.poll() is None

    def close(self) -> None:
        self.channel.close()
        try:  # it kills its children and exits at once, unless it is still importing
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.cwd, ignore_errors=True)


_servers: dict[tuple, _Server] = {}
_lock = threading.Lock()
_waited = 0.0


def waited() -> float:
    """Seconds this process has spent waiting for its servers to fork (a new server answers
    once its imports are done; then forks take milliseconds)."""
    return _waited


def _server(env: dict, cwd: str) -> _Channel:
    """The channel given to this process by its server (a hidden suite's), else this process's
    own server, started on first use; a new one when the variables libraries read on import
    change (HW_MODE, KERAS_BACKEND, ...) or the old one died."""
    fd, _, owner = os.environ.get(CHANNEL_VARIABLE, "").partition(":")
    path, _, digest = os.environ.get(SHARED_VARIABLE, "").rpartition("#")
    key = _key(env)
    if owner == str(os.getpid()):
        key = ("given",)
    elif path and digest == _digest(key) and os.path.exists(path):
        key = ("shared", path)
    with _lock:
        server = _servers.get(key)
        if server is not None and server.alive():
            return server
        if key[0] in ("given", "shared"):
            try:
                server = _Channel(socket.socket(fileno=int(fd)) if key[0] == "given" else _connect(path))
                _servers[key] = server
                return server
            except OSError:  # the shared server is gone: this process starts its own
                key = _key(env)
        for name in [k for k in _servers if k[0] not in ("listening", "shared")]:
            old = _servers.pop(name)
            if old.owner == os.getpid():
                old.close()
        server = _servers[key] = _Server(env, cwd)
        return server


def _key(env: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in env.items() if k not in ("HOME", "TMPDIR")))


def _digest(key: tuple) -> str:
    import hashlib

    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def _connect(path: str) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    connection.connect(path)
    return connection


def share(server_env: dict, server_cwd: str) -> str:
    """Start a server that the machine's other grading processes started after this call (a
    LocalCluster's workers, which inherit the environment) connect to instead of starting their
    own: one set of imports, and they happen while the cluster starts. Returns the value of
    SHARED_VARIABLE to set; ``stop_sharing`` ends it."""
    path = os.path.join(f"{server_cwd}-shared", "server.sock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with _lock:
        _servers[("listening", path)] = _Server(server_env, os.path.dirname(path), listen=path)
    return f"{path}#{_digest(_key(server_env))}"


def stop_sharing(value: str) -> None:
    path = value.rpartition("#")[0]
    with _lock:
        for key in (("shared", path), ("listening", path)):
            server = _servers.pop(key, None)
            if server is not None and server.owner == os.getpid():
                server.close()


def prepare(server_env: dict, server_cwd: str) -> None:
    """Start the server without waiting for its imports."""
    _server(server_env, server_cwd)


@atexit.register
def shutdown() -> None:
    with _lock:
        for server in _servers.values():
            if server.owner == os.getpid():
                server.close()
        _servers.clear()


def _stream_fd(value, mode: str, parent_ends: list, opened: list, inherit: int, stdout_fd: int | None = None) -> int:
    """The child's end of one standard stream, as ``subprocess.Popen`` takes it (None: ours)."""
    if value == subprocess.PIPE:
        read, write = os.pipe()
        child, parent = (read, write) if mode == "wb" else (write, read)
        parent_ends.append(open(parent, mode))
        opened.append(child)
        return child
    if value == subprocess.STDOUT:
        return stdout_fd
    if value is None:
        return inherit
    if value == subprocess.DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        opened.append(fd)
        return fd
    return value if isinstance(value, int) else value.fileno()


def popen(module: str, args: list[str], *, cwd, env: dict, setup, server_env: dict, server_cwd: str,
          **streams) -> WarmProcess:
    """Start ``python -m module args`` as a child of this process's warm server (see the module
    docstring)."""
    server = _server(server_env, server_cwd)
    try:
        return spawn(server, module, args, cwd=cwd, env=env, setup=setup, **streams)
    except OSError:
        with _lock:  # the next call starts or finds a live server
            for key in [k for k, v in _servers.items() if v is server]:
                del _servers[key]
        raise


def spawn(server: _Channel, module: str, args: list[str], *, cwd, env: dict, setup,
          stdin=None, stdout=None, stderr=None) -> WarmProcess:
    """Start ``python -m module args`` as a child of ``server``."""
    opened: list[int] = []
    stdin_ends: list = []
    stdout_ends: list = []
    status = None
    try:
        in_fd = _stream_fd(stdin, "wb", stdin_ends, opened, 0)
        out_fd = _stream_fd(stdout, "rb", stdout_ends, opened, 1)
        err_fd = _stream_fd(stderr, "rb", stdout_ends, opened, 2, stdout_fd=out_fd)
        status, write = os.pipe()
        opened.append(write)
        request = {"module": module, "args": [str(a) for a in args], "cwd": str(cwd), "env": env, "setup": setup}
        pid = server.fork(request, [in_fd, out_fd, err_fd, write])
    except BaseException:
        for stream in stdin_ends + stdout_ends:
            stream.close()
        if status is not None:
            os.close(status)
        raise
    finally:
        for fd in opened:
            os.close(fd)
    return WarmProcess(pid, status, stdin_ends[0] if stdin_ends else None, stdout_ends[0] if stdout_ends else None)
