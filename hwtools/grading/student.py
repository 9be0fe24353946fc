"""A student's module seen from the grader: every call runs in a sandboxed process of its
own, and only plain data comes back (see ``wire``). The grader's process never imports
student code, so nothing the student patches (numpy, pytest, hwtools) can touch a check.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from hwtools import sandbox

from hwtools.grading import wire

MAX_REPLY_BYTES = 256 * 1024 * 1024


class StudentCodeProblem(Exception):
    """The student's code could not answer: it failed to load, crashed, hung or misbehaved."""


class StudentError(StudentCodeProblem):
    """The student's function raised an exception (sometimes the expected behaviour)."""

    def __init__(self, type_name: str, mro: list[str], message: str):
        super().__init__(message)
        self.type_name = type_name
        self.mro = mro

    def is_a(self, exception_name: str) -> bool:
        return exception_name in self.mro


class Call:
    """What one call returned, and its arguments as they were after the call."""

    def __init__(self, value, args_after, kwargs_after):
        self.value = value
        self.args_after = args_after
        self.kwargs_after = kwargs_after


def _exit_status(code: int) -> str:
    """'exit code 1', or for a signal 'exit code -11, SIGSEGV: a crash such as a segmentation fault'."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"exit code {code}"
    meaning = {"SIGSEGV": "a crash such as a segmentation fault", "SIGKILL": "killed, often for memory",
               "SIGABRT": "aborted by a library"}.get(name, "killed by a signal")
    return f"exit code {code}, {name}: {meaning}"


class StudentModule:
    """Proxy for a submitted .py file or notebook; ``call`` and ``get`` cross to the sandbox."""

    def __init__(self, path: Path, *, timeout_s: float = 30, limits: sandbox.Limits | None = None,
                 startup_timeout_s: float = 120, max_timeouts: int = 2):
        self.path = Path(path)
        self.max_timeouts = max_timeouts
        self._timeouts: list[str] = []
        self.timeout_s = timeout_s
        self.startup_timeout_s = startup_timeout_s
        self.limits = limits or sandbox.Limits()
        self._process = None
        self._buffer = b""
        self._workdir = None
        self.load_problems: list[str] = []

    # lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        if not self.path.is_file():
            raise StudentCodeProblem(f"{self.path.name} is missing from the submission")
        self._workdir = sandbox.bound_scratch(sandbox.make_scratch("student-"))
        shutil.copytree(self.path.parent, self._workdir / "work", symlinks=True,  # a link is never followed here
                        ignore=shutil.ignore_patterns(".*", "__pycache__"))
        target = self._workdir / "work" / self.path.name
        # no display here; notebooks keep Jupyter's inline backend so figures reach the feedback
        env = sandbox.scrubbed_env(self._workdir, dict(sandbox.thread_env(self.limits.threads), MPLBACKEND="Agg"))
        self._process = sandbox.popen(
            [sys.executable, "-I", "-m", "hwtools.grading._student_worker", str(target)],
            cwd=self._workdir / "work", writable=self._workdir, limits=self.limits, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        self._buffer = b""
        ready = self._receive(self.startup_timeout_s, f"loading {self.path.name}")
        if not ready["ok"]:
            self.close()
            raise StudentCodeProblem(f"could not load {self.path.name}: {ready['message']}")
        self.load_problems = ready.get("problems", [])

    @property
    def workspace(self) -> Path | None:
        """The sandbox's copy of the submission folder, where the student's code reads and
        writes (None until the first call starts the process)."""
        return self._workdir / "work" if self._workdir is not None else None

    def close(self) -> None:
        if self._process is not None:
            sandbox.kill_group(self._process)
            self._process = None
        if self._workdir is not None:
            sandbox.free_scratch(self._workdir)
            self._workdir = None

    def __enter__(self) -> "StudentModule":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # protocol --------------------------------------------------------------------------
    def _bomb_message(self, doing: str) -> str:
        return sandbox.process_limit_message("your code", self.limits.max_tasks, while_doing=doing)

    def _receive(self, timeout_s: float, doing: str) -> dict:
        deadline = time.monotonic() + timeout_s
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                self._timeouts.append(f"timed out after {timeout_s:g} s while {doing} "
                                      "(an infinite loop, or far too slow)")
                raise StudentCodeProblem(self._timeouts[-1])
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                if sandbox.hit_process_limit(self._process):  # a fork bomb is stopped at once
                    self.close()
                    self._timeouts.append(self._bomb_message(doing))
                    raise StudentCodeProblem(self._timeouts[-1])
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                code = self._process.wait()
                bomb = sandbox.hit_process_limit(self._process)
                self.close()
                if bomb:
                    raise StudentCodeProblem(self._bomb_message(doing))
                raise StudentCodeProblem(f"the process running your code ended ({_exit_status(code)}) while "
                                         f"{doing}: os._exit, sys.exit, a crash or the memory limit "
                                         f"of {self.limits.memory_mb} MB")
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                self.close()
                raise StudentCodeProblem(f"the reply while {doing} exceeded {MAX_REPLY_BYTES >> 20} MB")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            self.close()
            raise StudentCodeProblem(f"garbled reply while {doing}: your code wrote to the grader's channel") from None

    def _request(self, message: dict, doing: str, timeout_s: float | None) -> dict:
        if len(self._timeouts) >= self.max_timeouts:
            raise StudentCodeProblem(f"not run: your code already {self._timeouts[0]} "
                                     f"({len(self._timeouts)} times)")
        if self._process is None:
            self._start()
        try:
            self._process.stdin.write((json.dumps(message) + "\n").encode())
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise StudentCodeProblem(f"the process running your code is gone while {doing}") from None
        reply = self._receive(timeout_s or self.timeout_s, doing)
        if not reply["ok"]:
            raise StudentError(reply["type"], reply["mro"], reply["message"])
        return reply

    # API -------------------------------------------------------------------------------
    def call(self, name: str, *args, timeout_s: float | None = None, then: str | None = None, **kwargs) -> Call:
        """Call the student's function with plain data; the result and mutated args come back.
        ``then`` ("hwtools.module:function") is applied to the result inside the sandbox first,
        for results that are not plain data (a tf.data pipeline comes back as its arrays)."""
        reply = self._request({"op": "call", "name": name, "args": [wire.encode(a) for a in args],
                               "kwargs": {k: wire.encode(v) for k, v in kwargs.items()}, "then": then},
                              f"running {name}()", timeout_s)
        return Call(wire.decode(reply["value"]), [wire.decode(a) for a in reply["args_after"]],
                    {k: wire.decode(v) for k, v in reply["kwargs_after"].items()})

    def get(self, name: str):
        """A module-level value (an answer variable), as plain data."""
        try:
            return wire.decode(self._request({"op": "get", "name": name}, f"reading {name}", None)["value"])
        except StudentError as err:
            if err.is_a("AttributeError"):
                raise StudentCodeProblem(f"{name} is not defined in {self.path.name}") from None
            raise

    def names(self) -> list[str]:
        return wire.decode(self._request({"op": "names"}, "listing names", None)["value"])
