"""Limits for processes that run student code: memory and file-size caps, no core dumps,
a scrubbed environment, its own process group, (``resource_groups``) a cap on processes and
threads and a fair CPU share, and (``isolation``) no network and a private, read-only view of
the file system, each where the OS allows it.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hwtools import isolation, resource_groups, warm

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


def thread_env(threads: int) -> dict:
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "MKL_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": value}


def _mapped_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmSize:")[1].split()[0]) * 1024


def apply_limits(limits: Limits, inherited: bool = False) -> None:
    """Run in the child before exec: new session, caps on memory and written file size. A child
    of the warm server (``inherited``) already maps the preloaded libraries, shared with the
    server: the memory cap counts what it maps on top of them."""
    os.setsid()
    memory = limits.memory_mb * 1024 * 1024 + (_mapped_bytes() if inherited else 0)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@functools.lru_cache(maxsize=None)
def isolation_problem(network: bool, filesystem: bool) -> str | None:
    """Probe once per kind whether the OS lets us isolate; log what cannot be enforced."""
    problem = isolation.probe(isolation.Plan(writable=Path(tempfile.gettempdir()), network=network,
                                             filesystem=filesystem))
    if problem:
        what = " and ".join(w for w, on in (("network", network), ("file-system", filesystem)) if on)
        log.warning("%s isolation unavailable here (%s): student code runs without it", what, problem)
    return problem


def network_isolation_available() -> bool:
    return isolation_problem(True, False) is None


def _isolation_plan(writable: Path, hidden: tuple) -> isolation.Plan:
    if isolation_problem(True, True) is None:
        return isolation.Plan(writable=writable, hidden=hidden)
    return isolation.Plan(network=network_isolation_available(), filesystem=False)


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
    try:
        if group is not None:
            group.join()
        isolation.enter(plan)
        os.chdir(os.getcwd())  # re-resolve the working folder through the new mounts
    except Exception:
        os._exit(97)  # never run student code with less isolation than was promised
    apply_limits(limits, inherited)


SCRATCH_ROOT = Path(tempfile.gettempdir()) / f"hw-scratch-{os.getuid()}"


def make_scratch(prefix: str) -> Path:
    """A scratch folder for one sandboxed run; all of them live under SCRATCH_ROOT, which every
    sandbox hides, so no submission sees another's files."""
    SCRATCH_ROOT.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=SCRATCH_ROOT))


def course_secrets(root: Path) -> tuple[Path, ...]:
    """What student code must never see: the gradebook, submissions, outputs, sources
    (solutions), hidden tests and the repository's history."""
    names = ("gradebook.db", "submitted", "autograded", "feedback", "source", "tests/hidden", ".git",
             "grades.csv", "grades_long.csv")
    paths = [root / name for name in names]
    url = os.environ.get("HW_DB_URL", "")
    if url.startswith("sqlite:///"):
        paths.append(Path(url[len("sqlite:///"):]))
    return tuple(paths)


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
    the child: forked from the warm server (``hwtools.warm``) unless HW_WARM=0 or it cannot
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
    hidden = (*(default_secrets() if hidden is None else hidden), SCRATCH_ROOT)
    plan = _isolation_plan(Path(writable or cwd), tuple(str(p) for p in hidden))
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
    group.stop_bomb(process.pid)
    return True


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
