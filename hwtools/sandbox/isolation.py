"""Linux namespaces and least privilege for processes that run student code (the IOI's
``isolate`` is the reference for the properties): its own PID namespace with its own /proc (it
sees and signals nothing outside), network namespace (a loopback of its own), IPC and UTS
namespaces, a mount namespace whose root holds only the system folders, the interpreter and
its own folder (the only one it writes), with a size-capped /dev/shm; then an unprivileged uid
of its own that owns nothing of the course, an empty capability bounding set,
``no_new_privs``, and a user namespace of its own in which root is not mapped and no further
user namespace can be made.

Runs in the child between fork and exec (``enter``), as root: it is the grader's only way to
give each submission a uid of its own and mounts it cannot change. ``probe`` tries it all in a
throwaway child and says what is missing where the machine cannot give it.
"""
from __future__ import annotations

import ctypes
import os
import signal
import struct
from dataclasses import dataclass, field
from pathlib import Path

from hwtools.sandbox import syscall_filter

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
STAGING = "/dev/shm"  # a private tmpfs is mounted here first, to build the new root in
SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")  # bound read-only into every sandbox
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
UID_BASE = int(os.environ.get("HW_SANDBOX_UID_BASE", 1_000_000_000))  # far from any real account


class IsolationError(OSError):
    pass


@dataclass(frozen=True)
class Plan:
    """What the child may write (``writable``), what it reads beyond the system folders
    (``exposed``: the interpreter, the libraries, data), and what must stay covered should it
    fall inside those (``hidden``: folders get an empty tmpfs, files /dev/null).
    ``network``/``filesystem`` False leave that part out (trusted code only)."""
    writable: Path | None = None
    hidden: tuple[str, ...] = field(default_factory=tuple)
    exposed: tuple[str, ...] = field(default_factory=tuple)
    shm_mb: int = 256
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


def bounded_folder(path: str, tag: str, size_mb: int) -> None:
    """Mount a tmpfs of SIZE_MB on the empty folder PATH, in the caller's mount namespace (the
    grader's), its source TAG: what is written there cannot fill the machine's disk."""
    _mount(tag, path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=700")


def detach(path: str) -> bool:
    """Unmount what is mounted on PATH (lazily: a process still in it keeps its view); False if
    nothing was."""
    return _libc.umount2(str(path).encode(), MNT_DETACH) == 0


def _prctl(option: int, arg: int, what: str) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), what)


def sandbox_uid() -> int:
    """The uid of the sandbox this process sets up: one per sandbox (its pid is unique while it
    runs), owning nothing on the machine."""
    return UID_BASE + os.getpid()


def _bring_loopback_up() -> None:
    """A new network namespace has only a loopback, and it is down: Jupyter kernels talk over it."""
    import fcntl
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, 0x8913, request)[:18])[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b"\0" * 14))  # SIOCSIFFLAGS, IFF_UP


def _bind(source: str, target: str, writable: bool = False) -> None:
    """Bind SOURCE (a folder or file, with what is mounted below it) on TARGET, read-only
    unless asked, never with devices or set-uid programs."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY))


def _minimal_dev(root: str, shm_mb: int) -> None:
    """/dev with the harmless devices only, its own /dev/shm (capped) and no other mount."""
    os.mkdir(f"{root}/dev")
    _mount("tmpfs", f"{root}/dev", "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            open(f"{root}/dev/{name}", "a").close()
            _mount(f"/dev/{name}", f"{root}/dev/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    os.mkdir(f"{root}/dev/shm")
    _mount("tmpfs", f"{root}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={shm_mb}m,mode=1777")


def _accounts(root: str, uid: int, home: str) -> None:
    """/etc/passwd and /etc/group that name only root and the sandbox's own user."""
    for name, text in (("passwd", f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                  f"student:x:{uid}:{uid}:student:{home}:/usr/sbin/nologin\n"),
                       ("group", f"root:x:0:\nstudent:x:{uid}:\n")):
        path = f"{STAGING}/{name}"
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o644)
        if os.path.exists(f"{root}/etc/{name}"):
            _mount(path, f"{root}/etc/{name}", None, MS_BIND)


def _private_filesystem(plan: Plan, uid: int) -> None:
    """A new root of its own, read-only: the system folders (``SYSTEM``), the exposed paths
    (interpreter, libraries, hwtools, data) and the writable folder, bound where they were;
    a fresh /proc (mounted by its PID 1), /sys read-only, a minimal /dev, a small /tmp, and
    accounts that name only itself. Nothing else of the machine (homes, other courses, the
    sockets of /run and /tmp, /srv, /var) exists there; hidden paths inside what is bound
    are covered."""
    cwd = os.getcwd()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700")
    root = f"{STAGING}/root"
    os.mkdir(root)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for name in SYSTEM:
        if os.path.islink(f"/{name}"):
            os.symlink(os.readlink(f"/{name}"), f"{root}/{name}")
        elif os.path.isdir(f"/{name}"):
            _bind(f"/{name}", f"{root}/{name}")
    _accounts(root, uid, str(plan.writable or "/"))
    for path in sorted(plan.hidden, key=len):
        inside = f"{root}{path}"
        if os.path.isdir(inside) and not os.path.islink(inside):
            _mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        elif os.path.isfile(inside) and not os.path.islink(inside):
            _mount("/dev/null", inside, None, MS_BIND)
    os.mkdir(f"{root}/proc")
    _bind("/sys", f"{root}/sys")
    _minimal_dev(root, plan.shm_mb)
    os.mkdir(f"{root}/tmp")
    _mount("tmpfs", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for path in plan.exposed:
        if os.path.exists(path):
            _bind(path, f"{root}{path}")
    if plan.writable is not None:
        _bind(str(plan.writable), f"{root}{plan.writable}", writable=True)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    os.chdir(root)
    _check(_libc.syscall(155 if os.uname().machine == "x86_64" else 41, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    try:
        os.chdir(cwd)
    except OSError:  # (a folder the sandbox does not have)
        os.chdir("/")


_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def _pass_signals_to(pid: int) -> None:
    def send(number, _frame):
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        signal.signal(signum, send)


def _hold_nothing(keep: int) -> None:
    """A relay holds no descriptor of the process it stands for (pipes must see their end,
    and subprocess's error pipe its exec) but ``keep``."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def _end_as(status: int) -> None:
    """Exit as a process with this wait status ended: its code, or killed by its signal."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 128 - code)


def _become_init() -> None:
    """After unshare(CLONE_NEWPID). Three processes stand for one: this one stays outside as
    the relay the grader sees; its child is PID 1 of the new namespace (mounts its /proc,
    reaps orphans, ends the namespace when the worker ends); that one's child, PID 2, is the
    worker, and the only one that returns. Signals go down the chain; the worker's end comes
    back up as the relay's own exit code or signal (PID 1 cannot kill itself with one)."""
    report, report_end = os.pipe()
    init = os.fork()
    if init:
        os.close(report_end)
        _pass_signals_to(init)
        _hold_nothing(report)
        status = os.waitpid(init, 0)[1]
        reported = os.read(report, 32)
        _end_as(int(reported) if reported else status)
    os.close(report)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    worker = os.fork()
    if worker == 0:
        os.close(report_end)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
        return
    _pass_signals_to(worker)
    _hold_nothing(report_end)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == worker:
            os.write(report_end, str(status).encode())
            os._exit(0)


def _own_tree(path: Path, uid: int) -> None:
    """The sandbox's uid owns its writable folder and everything the grader put in it."""
    os.lchown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def _capabilities_zero() -> None:
    """capset(2): no effective, permitted or inheritable capability."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.syscall(126 if os.uname().machine == "x86_64" else 91, header, data), "capset")


def _drop_bounding_set() -> None:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _prctl(PR_CAPBSET_DROP, capability, "prctl(PR_CAPBSET_DROP)")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "prctl(PR_CAP_AMBIENT)")


def _own_user_namespace(uid: int) -> None:
    """A user namespace where only the sandbox's uid is mapped (the grader's root is not), in
    which no further user namespace can be made; then no capability in it either."""
    # the uid change made it non-dumpable, so its /proc files belong to root; an ordinary
    # process of this uid is dumpable, and must be to write its own maps
    _prctl(PR_SET_DUMPABLE, 1, "prctl(PR_SET_DUMPABLE)")
    _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    for name, text in (("uid_map", f"{uid} {uid} 1"), ("setgroups", "deny"), ("gid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    with open("/proc/sys/user/max_user_namespaces", "w") as handle:
        handle.write("0")
    _drop_bounding_set()
    _capabilities_zero()


def drop_privileges(uid: int) -> None:
    """Become ``uid`` with no capability left, for good, and refuse the system calls a notebook
    never needs (``syscall_filter``; call last: nothing privileged after)."""
    _drop_bounding_set()
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
    _own_user_namespace(uid)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    capabilities = [int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")]
    if any(capabilities) or status["NoNewPrivs"].strip() != "1" or os.getuid() != uid:
        raise IsolationError(0, "privileges were not dropped")
    try:
        syscall_filter.install()  # last: it refuses the namespace calls made above
    except OSError as err:
        raise IsolationError(err.errno or 0, f"no seccomp filter: {err.strerror or err}") from None


def enter(plan: Plan) -> int | None:
    """Move the calling process into its sandbox (in the child before exec; as root). Returns,
    in the worker of a new PID namespace (``_become_init``) and still root, the uid to hand
    ``drop_privileges`` last (None without file-system isolation)."""
    if not plan.network and not plan.filesystem:
        return None
    if os.geteuid() != 0:
        raise IsolationError(1, "needs root (a uid per submission and mounts it cannot change)")
    flags = (CLONE_NEWNET if plan.network else 0) | \
        (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS if plan.filesystem else 0)
    _check(_libc.unshare(flags), "unshare")
    if plan.network:
        _bring_loopback_up()
    if not plan.filesystem:
        return None
    uid = sandbox_uid()
    _private_filesystem(plan, uid)
    if plan.writable is not None:
        _own_tree(Path(plan.writable), uid)
    _become_init()
    return uid


def probe(plan: Plan) -> str | None:
    """Try the plan, and the privilege drop after it, in a throwaway child: None if it all
    works, else why not."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            uid = enter(plan)
            if uid is not None:
                drop_privileges(uid)
            os.write(write, b"ok")
        except Exception as err:
            os.write(write, str(err).encode()[:500] or b"failed")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 600).decode(errors="replace")
    os.close(read)
    os.waitpid(pid, 0)
    return None if answer == "ok" else answer or "the probe's child died"
