"""Warm kernels: the sandboxed nbgrader run forks, at its start, a helper that holds the warm
server's libraries (TensorFlow, Keras, torch, ipykernel) and forks each notebook kernel from
it, instead of a fresh ``python -m ipykernel_launcher`` that imports them again (~5 s for a
TensorFlow notebook). Helper and kernels stay in the run's sandbox (its control group,
namespaces and limits); nothing leaves it.

A kernel is set up as jupyter_client would start it: a session of its own, its folder and
environment, no stdin, the folder on ``sys.path`` where IPython puts it, and matplotlib's
inline backend as ipykernel chooses it. A notebook that sets environment variables (which libraries read when
they are imported) gets a fresh kernel, as it would in the student's Jupyter.
"""
from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
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


def _kernel_setup(backend: str) -> None:
    """In the forked kernel (``hwtools.sandbox._warm_server`` takes its folder and environment): as
    jupyter_client and IPython would start it."""
    os.setsid()
    if "matplotlib" in sys.modules:  # imported under the server's backend: take the kernel's
        sys.modules["matplotlib"].rcParams["backend"] = backend
    # the notebook's folder, where IPython puts it (its own init_path skips it: the server runs with -I)
    index = next((i for i, path in enumerate(sys.path)
                  if os.path.basename(path) in ("site-packages", "dist-packages")), 0)
    sys.path.insert(index, "")


class KernelForker:
    """A fork server (``hwtools.sandbox._warm_server.serve``) forked from this process, which already
    holds the libraries. Start it while the process is still single-threaded: fork is safe
    only then."""

    def __init__(self):
        from hwtools.sandbox import warm

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                from hwtools.sandbox._warm_server import serve

                serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.channel = pid, warm._Channel(ours)

    def launch(self, args: list[str], cwd: str, env: dict):
        from hwtools.sandbox import warm

        env = dict(env)
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel chooses
        return warm.spawn(self.channel, KERNEL_MODULE, args, cwd=cwd, env=env,
                          setup=functools.partial(_kernel_setup, env["MPLBACKEND"]), stdin=subprocess.DEVNULL)


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
