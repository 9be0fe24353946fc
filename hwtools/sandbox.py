"""Limits for processes that run student code: memory and file-size caps, no core dumps,
a scrubbed environment, its own process group, and no network where the OS allows it.
"""
from __future__ import annotations

import ctypes
import functools
import logging
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("hwtools.sandbox")

# Variables a student process may see; everything else (tokens, db URLs, cloud keys) is dropped.
_PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "HW_MODE", "HW_DATA", "HW_SEED", "HW_MNIST_PATH",
                     "HW_CELL_TIMEOUT", "HW_TRAINING_CELL_TIMEOUT", "HW_MEMORY_MB",
                     "TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = int(os.environ.get("HW_MEMORY_MB", 6144))
    file_size_mb: int = 512
    threads: int = 1


def scrubbed_env(home: Path, extra: dict | None = None) -> dict:
    """A minimal environment: the venv's bin first on PATH, a private HOME and TMPDIR."""
    env = {k: os.environ[k] for k in _PASSED_VARIABLES if k in os.environ}
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    })
    env.update(extra or {})
    return env


def thread_env(threads: int) -> dict:
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "MKL_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": value}


def apply_limits(limits: Limits) -> None:
    """Run in the child before exec: new session, caps on memory and written file size."""
    os.setsid()
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def _bring_loopback_up() -> None:
    """A new network namespace has only a loopback, and it is down: kernels talk over it."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, 0x8913, request)[:18])[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b"\0" * 14))  # SIOCSIFFLAGS, IFF_UP


def isolate_network() -> bool:
    """Move the calling process into a network namespace of its own (loopback only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWNET) != 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
            return False
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    _bring_loopback_up()
    return True


@functools.lru_cache(maxsize=1)
def network_isolation_available() -> bool:
    """Probe once, in a throwaway child; say in the log when it cannot be enforced."""
    probe = subprocess.run([sys.executable, "-c", "import sys; from hwtools.sandbox import isolate_network; "
                            "sys.exit(0 if isolate_network() else 1)"], capture_output=True)
    if probe.returncode != 0:
        log.warning("network isolation unavailable here (no permission for a network namespace): "
                    "student code runs with the host's network")
    return probe.returncode == 0


def _child_setup(limits: Limits, isolate: bool) -> None:
    if isolate and not isolate_network():
        os._exit(97)
    apply_limits(limits)


def popen(argv: list[str], *, cwd: Path, limits: Limits, env: dict, **kwargs) -> subprocess.Popen:
    """Start a sandboxed process."""
    isolate = network_isolation_available()
    return subprocess.Popen(argv, cwd=cwd, env=env, preexec_fn=functools.partial(_child_setup, limits, isolate),
                            **kwargs)


def kill_group(process: subprocess.Popen) -> None:
    """Kill the process and everything it started."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
