"""Control groups for sandboxed processes: a cap on how many processes and threads one
submission may run at once (a fork bomb stops there), an equal CPU share per submission however
many processes it starts (a bomb cannot starve the other students graded beside it), and a way
to kill everything a submission started, even processes that left its process group.

Linux cgroups, v1 (the ``pids`` and ``cpu`` hierarchies) or v2 (the unified one, where its
``pids`` and ``cpu`` controllers are delegated to us). Needs root or a delegated subtree;
``problem()`` says once why not where it cannot be had, and the sandbox logs it.
"""
from __future__ import annotations

import functools
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MAX_TASKS = int(os.environ.get("HW_MAX_TASKS", 512))  # processes + threads (TensorFlow uses ~60)
PREFIX = "hw-sandbox-"
_counter = itertools.count()
log = logging.getLogger("hwtools.sandbox.resource_groups")


def _mounts() -> list[tuple[str, str, set[str]]]:
    rows = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, target, fstype, options, *_ = line.split()
        if fstype in ("cgroup", "cgroup2"):
            rows.append((target, fstype, set(options.split(","))))
    return rows


def _own_path(controller: str | None) -> str:
    """Our cgroup in the hierarchy of ``controller`` (None: the v2 unified one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (controller and controller in controllers.split(",")):
            return path
    raise OSError(f"no {controller or 'unified'} cgroup in /proc/self/cgroup")


@functools.lru_cache(maxsize=1)
def parents() -> tuple[Path, ...]:
    """The cgroup folders under which submission groups are made: one per hierarchy that has
    the pids or cpu controller; pids first."""
    found = {}
    for target, fstype, options in _mounts():
        for controller in ("pids", "cpu"):
            if fstype == "cgroup" and controller in options and controller not in found:
                found[controller] = Path(target) / _own_path(controller).lstrip("/")
    if "pids" in found:
        return tuple(dict.fromkeys((found["pids"], found.get("cpu", found["pids"]))))
    for target, fstype, _ in _mounts():
        if fstype == "cgroup2":
            parent = Path(target) / _own_path(None).lstrip("/")
            if "pids" in (parent / "cgroup.subtree_control").read_text().split():
                return (parent,)
    raise OSError("no cgroup hierarchy with the pids controller is mounted and delegated here")


@dataclass(frozen=True)
class Group:
    """One submission's control group(s): one folder per hierarchy, pids first."""
    folders: tuple[Path, ...]
    max_tasks: int = MAX_TASKS

    @classmethod
    def create(cls, max_tasks: int = MAX_TASKS) -> "Group":
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        folders = []
        try:
            for parent in parents():
                folder = parent / name
                folder.mkdir()
                folders.append(folder)
            (folders[0] / "pids.max").write_text(str(max_tasks))
        except OSError:
            cls(tuple(folders)).destroy()
            raise
        return cls(tuple(folders), max_tasks)

    def join(self) -> None:
        """Move the calling process in (the sandbox calls it in the child before exec)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def hit_limit(self) -> bool:
        """Whether a fork or thread start was refused because the group was full."""
        try:
            events = (self.folders[0] / "pids.events").read_text().split()
        except OSError:
            return False
        return len(events) >= 2 and events[0] == "max" and int(events[1]) > 0

    def processes(self) -> list[int]:
        try:
            return [int(pid) for pid in (self.folders[0] / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill(self, spare: frozenset[int] = frozenset(), timeout_s: float = 10) -> None:
        """Kill every process in the group but those in ``spare``; no new one can start meanwhile."""
        try:
            (self.folders[0] / "pids.max").write_text("0")
        except OSError:
            pass
        deadline = time.monotonic() + timeout_s
        while (pids := [p for p in self.processes() if p not in spare]) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def stop_bomb(self, spare: frozenset[int]) -> None:
        """Kill all but ``spare`` (the grader's own processes in the sandbox) and let them go on
        with the usual limit: to them, the student's kernel just died."""
        self.kill(spare)
        (self.folders[0] / "pids.max").write_text(str(self.max_tasks))

    def destroy(self) -> None:
        """Kill every process in the group and remove it."""
        if not self.folders:
            return
        try:
            peak = (self.folders[0] / "pids.peak").read_text().strip()
            log.debug("%s: at most %s tasks at once", self.folders[0].name, peak)
        except OSError:
            pass
        self.kill()
        for folder in reversed(self.folders):
            for _ in range(100):  # a killed process leaves its group a moment after it dies
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def sweep_stale() -> int:
    """Destroy groups left by graders that died (kill -9): their creator process is gone."""
    swept = 0
    for parent in parents()[:1]:
        for folder in parent.glob(f"{PREFIX}*"):
            creator = int(folder.name[len(PREFIX):].split("-")[0])
            if creator != os.getpid() and not Path(f"/proc/{creator}").exists():
                Group(tuple(p / folder.name for p in parents() if (p / folder.name).is_dir())).destroy()
                swept += 1
    return swept


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """None if groups can be made here (stale ones are swept first), else why not."""
    try:
        sweep_stale()
        Group.create(1).destroy()
    except (OSError, ValueError) as err:
        return str(err) or type(err).__name__
    return None
