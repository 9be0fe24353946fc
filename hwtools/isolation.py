"""Linux namespaces for processes that run student code: no network (a loopback of its own)
and a private view of the file system (everything read-only but its own folder; a fresh
/dev/shm; the gradebook, other submissions' scratch folders, sources and hidden tests hidden).

Runs in the child between fork and exec. Needs root or unprivileged user namespaces; where
the OS allows neither, ``available()`` says so once and the sandbox logs it.
"""
from __future__ import annotations

import ctypes
import errno
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 1, 2, 32, 4096, 8192, 16384, 1 << 18
HOLD = "/dev/shm/.hw-own"


class IsolationError(OSError):
    pass


@dataclass(frozen=True)
class Plan:
    """What the child may write (``writable``) and what it must not see (``hidden``)."""
    writable: Path | None = None
    hidden: tuple[Path, ...] = field(default_factory=tuple)
    network: bool = True
    filesystem: bool = True


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise IsolationError(code, f"{what}: {os.strerror(code)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    _check(_libc.mount(source and source.encode(), str(target).encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _unshare(flags: int) -> None:
    if _libc.unshare(flags) == 0:
        return
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def _bring_loopback_up() -> None:
    """A new network namespace has only a loopback, and it is down: Jupyter kernels talk over it."""
    import fcntl
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, 0x8913, request)[:18])[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b"\0" * 14))  # SIOCSIFFLAGS, IFF_UP


def _private_filesystem(plan: Plan) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if plan.writable is not None:
        os.makedirs(HOLD, exist_ok=True)
        _mount(str(plan.writable), HOLD, None, MS_BIND | MS_REC)
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for path in plan.hidden:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID, "size=64k,mode=755")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
    if plan.writable is not None:
        os.makedirs(plan.writable, exist_ok=True)  # inside a hidden scratch root, on its empty tmpfs
        _mount(HOLD, str(plan.writable), None, MS_MOVE)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID, "mode=1777")


def enter(plan: Plan) -> None:
    """Move the calling process into its namespaces (call in the child before exec)."""
    flags = (CLONE_NEWNET if plan.network else 0) | (CLONE_NEWNS if plan.filesystem else 0)
    if not flags:
        return
    _unshare(flags)
    if plan.network:
        _bring_loopback_up()
    if plan.filesystem:
        _private_filesystem(plan)


def probe(plan: Plan) -> str | None:
    """Try the plan in a throwaway child: None if it works, else why not."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            enter(plan)
            os.write(write, b"ok")
        except Exception as err:
            os.write(write, str(err).encode()[:500] or b"failed")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 600).decode(errors="replace")
    os.close(read)
    os.waitpid(pid, 0)
    return None if answer == "ok" else answer or f"child died ({errno.errorcode.get(0, '')})"
