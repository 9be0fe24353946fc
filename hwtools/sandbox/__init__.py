"""Limits for processes that run student code: memory and file-size caps, no core dumps,
a scrubbed environment, its own session, (``resource_groups``) a cap on processes and threads
and a fair CPU share, and (``isolation``) its own PID, network and mount namespaces, a private
read-only view of the file system, an unprivileged uid of its own and no capabilities. Where
the machine cannot give all of it, student code does not run (``require_sandbox``) unless the
TA says the code is trusted.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hwtools.sandbox import isolation, resource_groups, warm

log = logging.getLogger("hwtools.sandbox")

# Variables a student process may see; everything else (tokens, db URLs, cloud keys) is dropped.
_PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "HW_MODE", "HW_DATA", "HW_SEED", "HW_MNIST_PATH",
                     "HW_CELL_TIMEOUT", "HW_TRAINING_CELL_TIMEOUT", "HW_MEMORY_MB",
                     "HW_FLOWERS_PATH", "HW_MOBILENET_WEIGHTS",
                     "TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = int(os.environ.get("HW_MEMORY_MB", 6144))
    file_size_mb: int = 512
    threads: int = 1
    shm_mb: int = int(os.environ.get("HW_SHM_MB", 256))  # its private /dev/shm (a tmpfs: memory)
    max_tasks: int = resource_groups.MAX_TASKS  # processes + threads at once, where cgroups allow


def scrubbed_env(home: Path, extra: dict | None = None) -> dict:
    """A minimal environment: the venv's bin first on PATH, a private HOME and TMPDIR."""
    env = {k: os.environ[k] for k in _PASSED_VARIABLES if k in os.environ}
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    })
    env.update(extra or {})
    return env


# What the grader's own processes that handle students' work (the hidden suite, which loads their
# saved models and calls their functions through sandboxed workers) need of the environment:
# the budget and data settings, the sandbox's own settings, and where things are. No database
# URL, token or password reaches them.
_GRADER_VARIABLES = (*_PASSED_VARIABLES, "PATH", "HOME", "TMPDIR", "VIRTUAL_ENV", "HW_WARM", "HW_MAX_TASKS",
                     "HW_SCRATCH_MB", "HW_SHM_MB", "HW_SANDBOX_UID_BASE", "HW_TRUSTED_CODE", "KERAS_HOME")


def grader_env(**extra: str) -> dict:
    """The environment of a grader process that handles students' work, with EXTRA."""
    return {**{k: os.environ[k] for k in _GRADER_VARIABLES if k in os.environ}, **extra}


def thread_env(threads: int) -> dict:
    """The thread settings of a process that computes with students' numbers: THREADS for every
    library (OpenMP, hence torch; MKL, OpenBLAS, TensorFlow's intra- and inter-op pools). One
    thread keeps the numbers independent of the machine: a second intra-op thread splits the
    sums differently (a seeded Keras fit ends at another loss). More inter-op threads would not
    change a bit but cost the small models their hand-offs (benchmarks/RESULTS.md, issue 22)."""
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "MKL_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": value}


def _mapped_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmSize:")[1].split()[0]) * 1024


def apply_limits(limits: Limits, inherited: bool = False) -> None:
    """Run in the child before exec: caps on memory and written file size, no core dumps. A
    child of the warm server (``inherited``) already maps the preloaded libraries, shared with
    the server: the memory cap counts what it maps on top of them."""
    memory = limits.memory_mb * 1024 * 1024 + (_mapped_bytes() if inherited else 0)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


TRUSTED_VARIABLE = "HW_TRUSTED_CODE"  # "1": run code without the sandbox (the course's own, never students')


class SandboxUnavailable(RuntimeError):
    """This machine cannot contain student code, and nobody said the code is trusted."""


def trusted_code() -> bool:
    return os.environ.get(TRUSTED_VARIABLE) == "1"


@functools.lru_cache(maxsize=None)
def isolation_problem(network: bool, filesystem: bool) -> str | None:
    """Probe once per kind whether the OS lets us isolate (namespaces, mounts, a uid of its
    own, no capabilities): None if so, else what is missing."""
    probe_dir = make_scratch("probe-")
    try:
        return isolation.probe(isolation.Plan(writable=probe_dir, network=network, filesystem=filesystem))
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)


def network_isolation_available() -> bool:
    return isolation_problem(True, False) is None


def sandbox_problem() -> str | None:
    """What this machine lacks to contain a hostile submission, or None."""
    problem = isolation_problem(True, True)
    if problem is None and not process_groups_available():
        problem = f"no control groups for a process cap ({resource_groups.problem()})"
    return problem


@functools.lru_cache(maxsize=None)
def _warn_trusted(problem: str) -> None:
    log.warning("running code WITHOUT a sandbox (%s=1): %s", TRUSTED_VARIABLE, problem)


def require_sandbox() -> None:
    """Refuse to run student code where it cannot be contained, saying what is missing and how
    to get it; ``HW_TRUSTED_CODE=1`` (hw --trusted-code) runs it anyway, for trusted code."""
    problem = sandbox_problem()
    if problem is None:
        _sweep_once()
        return
    if trusted_code():
        _warn_trusted(problem)
        return
    raise SandboxUnavailable(
        f"cannot contain student code on this machine: {problem}. Grade as root on Linux (the sandbox needs "
        "PID, mount, network and user namespaces, a uid per submission and control groups), or pass "
        f"--trusted-code ({TRUSTED_VARIABLE}=1) for code you trust")


def _needed_paths() -> list[str]:
    """What sandboxed Python reads: the interpreter, its libraries, hwtools, the data paths set."""
    import hwtools

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             str(Path(hwtools.__file__).resolve().parent)]
    paths += [os.environ[k] for k in ("HW_MNIST_PATH", "HW_FLOWERS_PATH", "HW_MOBILENET_WEIGHTS") if os.environ.get(k)]
    return list(dict.fromkeys(os.path.realpath(p) for p in paths))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _isolation_plan(writable: Path, hidden: tuple) -> isolation.Plan:
    """Exposed: the needed paths that the sandbox's system folders do not hold already."""
    if isolation_problem(True, True) is not None:
        return isolation.Plan(network=network_isolation_available(), filesystem=False)
    needed = _needed_paths()
    system = [f"/{name}" for name in isolation.SYSTEM]
    exposed = tuple(p for p in needed if not any(_within(p, f) for f in system)
                    and not any(p != q and _within(p, q) for q in needed))
    return isolation.Plan(writable=writable, hidden=tuple(dict.fromkeys(os.path.realpath(p) for p in hidden)),
                          exposed=exposed, shm_mb=Limits().shm_mb)


@functools.lru_cache(maxsize=None)
def process_groups_available() -> bool:
    """Probe once whether each sandbox can get its own control group; log it when not."""
    problem = resource_groups.problem()
    if problem:
        log.warning("process-count and CPU-share limits unavailable here (%s): a fork bomb is not contained",
                    problem)
    return problem is None


def _child_setup(limits: Limits, plan: isolation.Plan, group: resource_groups.Group | None,
                 inherited: bool = False) -> None:
    """In the child: a session of its own, its control group, its namespaces (it goes on as
    PID 2 of its own), its limits, and last an unprivileged uid with no capabilities."""
    try:
        os.setsid()
        if group is not None:
            group.join()
        uid = isolation.enter(plan)
        os.chdir(os.getcwd())  # re-resolve the working folder through the new mounts
        apply_limits(limits, inherited)
        if uid is not None:
            isolation.drop_privileges(uid)
    except Exception:
        os._exit(97)  # never run student code with less isolation than was promised


SCRATCH_ROOT = Path(tempfile.gettempdir()) / f"hw-scratch-{os.getuid()}"


def make_scratch(prefix: str) -> Path:
    """A scratch folder for one sandboxed run; all of them live under SCRATCH_ROOT, which every
    sandbox hides, so no submission sees another's files."""
    SCRATCH_ROOT.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=SCRATCH_ROOT))


SCRATCH_MB = int(os.environ.get("HW_SCRATCH_MB", 2048))  # what one sandbox may write (a tmpfs: memory)
_MOUNT_TAG = "hw-scratch-of-"  # + the pid of the grader that mounted it


def bound_scratch(folder: Path, size_mb: int | None = None) -> Path:
    """FOLDER (empty, under SCRATCH_ROOT) becomes a tmpfs of SIZE_MB: a sandbox that fills it
    fails alone, the machine's disk stays free. ``free_scratch`` removes it. (Without the
    sandbox, trusted code only: an ordinary folder.)"""
    if isolation_problem(True, True) is None:
        isolation.bounded_folder(str(folder), f"{_MOUNT_TAG}{os.getpid()}", size_mb or SCRATCH_MB)
    return folder


def scratch_full(folder: Path) -> bool:
    """Whether a bounded scratch folder has (almost) no room left."""
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 1024 * 1024


def free_scratch(folder: Path) -> None:
    """Remove a scratch folder, bounded or not, whatever is in it (links are not followed)."""
    isolation.detach(str(folder))
    shutil.rmtree(folder, ignore_errors=True)


def sweep_stale_scratch() -> int:
    """Unmount and remove the bounded scratch folders of graders that died (kill -9, or a hidden
    suite killed with the student workers it had started)."""
    swept = 0
    for line in Path("/proc/self/mounts").read_text().splitlines():
        source, target = line.split()[:2]
        if source.startswith(_MOUNT_TAG) and source[len(_MOUNT_TAG):].isdigit():
            creator = int(source[len(_MOUNT_TAG):])
            if creator != os.getpid() and not Path(f"/proc/{creator}").exists():
                free_scratch(Path(target.replace("\\040", " ")))
                swept += 1
    return swept


@functools.lru_cache(maxsize=None)
def _sweep_once() -> int:
    return sweep_stale_scratch()


def course_secrets(root: Path) -> tuple[Path, ...]:
    """What student code must never see of the course at ROOT (``Course.secrets``)."""
    from hwtools.course import Course

    return Course(Path(root)).secrets()


def default_secrets() -> tuple[Path, ...]:
    """The secrets of the course named by $HW_COURSE_ROOT (set by the graders), if any."""
    root = os.environ.get("HW_COURSE_ROOT")
    return course_secrets(Path(root)) if root else ()


def _warm_server_env() -> tuple[dict, str]:
    """The fork server's environment: scrubbed like a sandbox's, one thread per library (OpenMP
    reads it once, on import), matplotlib's Agg backend (chosen on import)."""
    home = SCRATCH_ROOT / f"warm-{os.getpid()}"
    home.mkdir(parents=True, exist_ok=True)
    extra = dict(thread_env(1), MPLBACKEND="Agg")
    if "HW_MAX_TASKS" in os.environ:
        extra["HW_MAX_TASKS"] = os.environ["HW_MAX_TASKS"]
    return scrubbed_env(home, extra), str(home)


@functools.lru_cache(maxsize=None)
def _warm_unavailable(reason: str) -> None:
    log.warning("no warm fork server (%s): each sandboxed run starts a fresh interpreter", reason)


def warm_up() -> None:
    """Start this process's warm server now, so that its imports overlap with other work."""
    if warm.enabled():
        try:
            warm.prepare(*_warm_server_env())
        except OSError as err:
            _warm_unavailable(str(err))


@contextlib.contextmanager
def shared_warm_server():
    """While it lasts, grading processes started from here on this machine (a LocalCluster's
    workers) share one warm server, started now. Only with file-system isolation, which hides
    its socket (under SCRATCH_ROOT) from every sandbox."""
    if not warm.enabled() or isolation_problem(True, True) is not None or os.environ.get(warm.SHARED_VARIABLE):
        yield  # (or one is shared already: started by the command line before its imports)
        return
    value = os.environ[warm.SHARED_VARIABLE] = warm.share(*_warm_server_env())
    try:
        yield
    finally:
        os.environ.pop(warm.SHARED_VARIABLE, None)
        warm.stop_sharing(value)


def start_module(module: str, args: list, *, cwd: Path, env: dict, setup=None, **streams):
    """``python -I -m module args`` in a session of its own, ``setup`` (picklable) run first in
    the child: forked from the warm server (``hwtools.sandbox.warm``) unless HW_WARM=0 or it cannot
    start, else a fresh interpreter. Returns a Popen or what stands for one."""
    if warm.enabled():
        server_env, server_cwd = _warm_server_env()
        try:
            inherited = setup and functools.partial(setup, inherited=True)
            return warm.popen(module, args, cwd=cwd, env=env, setup=inherited, server_env=server_env,
                              server_cwd=server_cwd, **streams)
        except OSError as err:
            _warm_unavailable(str(err))
    return subprocess.Popen([sys.executable, "-I", "-m", module, *map(str, args)], cwd=cwd, env=env,
                            preexec_fn=setup or os.setsid, **streams)


def popen(argv: list[str], *, cwd: Path, limits: Limits, env: dict, writable: Path | None = None,
          hidden: tuple | None = None, **kwargs):
    """Start a sandboxed process: it may write only under ``writable`` (default: cwd) and
    cannot see the ``hidden`` paths (default: the secrets of $HW_COURSE_ROOT's course).
    ``python -I -m MODULE ...`` runs through ``start_module`` (warm where it can)."""
    require_sandbox()
    writable = Path(writable or cwd).resolve()
    if not _within(str(writable), str(SCRATCH_ROOT.resolve())):  # it is given to the sandbox's uid
        raise ValueError(f"a sandbox writes only in a scratch folder (sandbox.make_scratch), not {writable}")
    hidden = (*(default_secrets() if hidden is None else hidden), SCRATCH_ROOT)
    plan = _isolation_plan(writable, tuple(str(p) for p in hidden))
    group = resource_groups.Group.create(limits.max_tasks) if process_groups_available() else None
    setup = functools.partial(_child_setup, limits, plan, group)
    try:
        if argv[:3] == [sys.executable, "-I", "-m"]:
            process = start_module(argv[3], argv[4:], cwd=cwd, env=env, setup=setup, **kwargs)
        else:
            process = subprocess.Popen(argv, cwd=cwd, env=env, preexec_fn=setup, **kwargs)
    except BaseException:
        if group is not None:
            group.destroy()
        raise
    process.hw_group = group
    return process


def process_limit_message(subject: str, limit: int | None = None, while_doing: str = "") -> str:
    """The sentence for a process tree stopped at its process limit (a fork bomb), said of
    SUBJECT ("the notebook", "your code") in the feedback."""
    limit = Limits().max_tasks if limit is None else limit
    doing = f" while {while_doing}" if while_doing else ""
    return (f"{subject} tried to run more than {limit} processes and threads at once{doing} (a fork bomb, or "
            "processes started in a loop) and was stopped")


def hit_process_limit(process: subprocess.Popen) -> bool:
    """Whether the process tree tried to run more processes/threads than its limit (a fork bomb)."""
    group = getattr(process, "hw_group", None)
    return group is not None and group.hit_limit()


def stop_bomb(process: subprocess.Popen) -> bool:
    """If the process tree hit its process limit, kill all of it but the process itself (the
    grader's side, which goes on as after a kernel death) and say so."""
    group = getattr(process, "hw_group", None)
    if group is None or not group.hit_limit():
        return False
    group.stop_bomb(frozenset((process.pid, *(p for p in group.processes() if _namespace_pid(p) in (1, 2)))))
    return True


def _namespace_pid(pid: int) -> int | None:
    """A process's pid in its own PID namespace: a sandbox's PID 1 and 2 (its init and the
    grader's process, ``isolation._become_init``) are the grader's side of it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(status.split("NSpid:")[1].split("\n")[0].split()[-1])


def kill_group(process: subprocess.Popen) -> None:
    """Kill the process and everything it started, including what left its process group."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    group = getattr(process, "hw_group", None)
    if group is not None:
        group.destroy()
