"""The warm fork server (see ``hwtools.sandbox.warm``, the grader's side): imports the heavy libraries
once, then forks a child per request, which sets itself up like a fresh sandboxed process and
runs ``python -m MODULE ARGS``. Started as ``python -I -m hwtools.sandbox._warm_server FD GRADER_PID``.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import sys

from hwtools.sandbox.warm import CHANNEL_VARIABLE

# What the grading processes import; each costs a fresh interpreter seconds. Missing ones are
# skipped. PRELOAD comes before the first fork: what a sandboxed nbgrader run and its kernels
# use. LATER is imported while the server waits for requests (only hidden suites use it), so the
# first submissions do not wait for it.
PRELOAD = ("numpy", "pandas", "scipy.stats", "sklearn.metrics", "sklearn.model_selection", "sklearn.preprocessing",
           "PIL.Image", "matplotlib.pyplot", "tensorflow", "keras", "pytest", "nbformat", "jupyter_client", "nbconvert",
           "nbgrader.apps", "nbgrader.converters", "nbgrader.preprocessors", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "ipykernel.debugger")
# torch._inductor.config: torch.use_deterministic_algorithms imports it (with torch._dynamo),
# ~1-2 s that every hidden suite and notebook calling hwtools.seeding.seed_everything paid.
LATER = ("torch", "torch._inductor.config", "keras_tuner")


def _preload(names=PRELOAD) -> None:
    # unused by notebook schemas and ~1.2 s to compile (see execute_submission.main)
    sys.modules.setdefault("rfc3987_syntax", None)
    import gc
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception as err:  # a course without one of them grades without it
            print(f"hwtools.sandbox.warm: not preloaded {name}: {err}", file=sys.stderr)
    # The libraries' objects go to the permanent generation: a child's garbage collections skip
    # them (pytest's gc.collect() calls at exit cost ~0.9 s per hidden suite otherwise) and do
    # not copy the pages they sit on.
    gc.collect()
    gc.freeze()


def _die_with(parent: int) -> None:
    """PR_SET_PDEATHSIG: SIGKILL when ``parent`` (the grader, or the server) dies."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def take_environment(env: dict) -> None:
    os.environ.clear()
    os.environ.update(env)
    import tempfile

    tempfile.tempdir = None  # the child's own TMPDIR, not the one the server may have looked up


def become(module: str, args: list[str], prepare) -> None:
    """In a forked child: ``prepare()`` it, then run ``python -m module args`` and exit with
    its code; never returns."""
    code = 1
    try:
        prepare()
        import runpy

        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def _child(request: dict, fds: list[int], closing: list[int], started: int) -> None:
    """In the forked child: become the requested process; never returns."""
    def prepare() -> None:
        for fd in closing:
            os.close(fd)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in set(fds):
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        _die_with(request["server"])  # (a sandbox's relay; its PID 1 dies with the relay)
        if request["setup"] is not None:
            request["setup"]()  # the sandbox (session, control group, namespaces, rlimits, uid)
        else:
            os.setsid()
        os.write(started, b"1")  # its process group exists: the grader may signal it now
        os.close(started)
        take_environment(request["env"])
        if request.get("channel") is not None:
            os.environ[CHANNEL_VARIABLE] = f"{request['channel']}:{os.getpid()}"

    become(request["module"], request["args"], prepare)


def reaped():
    """(pid, exit code) of each child that has ended, without waiting for the others."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def _reap(children: dict[int, tuple[int, int]]) -> None:
    for pid, code in reaped():
        fd, _ = children.pop(pid, (None, None))
        if fd is None:
            continue
        try:
            os.write(fd, str(code).encode())
        except OSError:  # whoever asked for it is gone
            pass
        os.close(fd)


def serve(grader: socket.socket, listener: socket.socket | None = None, later: tuple = ()) -> None:
    """Fork a child per request; report each child's exit code on its own status pipe. A
    child that runs grader code (no sandbox: a hidden suite) gets a channel of its own, so the
    student workers it starts are forked warm too; sandboxed children get none. With a
    ``listener``, the machine's other grading processes (a LocalCluster's workers) connect too.
    The modules in ``later`` are imported one at a time whenever no request waits."""
    later = list(later)
    children: dict[int, tuple[int, int]] = {}  # pid -> (write end of its status pipe, channel that asked)
    channels = {grader.fileno(): grader}
    while True:
        _reap(children)
        ready = select.select([*channels.values(), *([listener] if listener else [])], [], [], 0 if later else 0.05)[0]
        if not ready and later:
            _preload([later.pop(0)])
        for channel in ready:
            if channel is listener:
                connection, _ = listener.accept()
                channels[connection.fileno()] = connection
                continue
            try:
                data, fds, _, _ = socket.recv_fds(channel, 1 << 20, 4)
            except OSError:
                data = b""
            if not data and channel is grader:
                _kill(children)  # the grader is gone: nothing it started may go on
                return
            if not data:  # a hidden suite ended: so do the student workers it left running
                _kill(children, channel.fileno())
                channels.pop(channel.fileno()).close()
                continue
            request = dict(pickle.loads(data), server=os.getpid())
            own = theirs = None
            if request["setup"] is None:
                own, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                request["channel"] = theirs.fileno()
            sys.stdout.flush()
            sys.stderr.flush()
            ready, started = os.pipe()
            pid = os.fork()
            if pid == 0:
                _child(request, fds, [*channels, *(fd for fd, _ in children.values()),
                                      *([own.fileno()] if own else []), ready], started)
            os.close(started)
            os.read(ready, 1)  # empty if its setup failed and it exited
            os.close(ready)
            for fd in set(fds[:3]):
                os.close(fd)
            children[pid] = (fds[3], channel.fileno())
            if own is not None:
                theirs.close()
                channels[own.fileno()] = own
            channel.send(str(pid).encode())


def _kill(children: dict[int, tuple[int, int]], channel: int | None = None) -> None:
    """Kill the sessions of the children (those asked for on ``channel``)."""
    for pid, (_, asked_on) in children.items():
        if channel is not None and asked_on != channel:
            continue
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def main() -> None:
    _die_with(int(sys.argv[2]))
    listener = None
    if len(sys.argv) > 3:  # a path in the grader's private scratch folder, which every sandbox hides
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(sys.argv[3])
        os.chmod(sys.argv[3], 0o600)
        listener.listen(64)
    _preload()
    serve(socket.socket(fileno=int(sys.argv[1])), listener, later=LATER)
    os._exit(0)  # nothing to save, and finalizing TensorFlow and torch takes seconds


if __name__ == "__main__":
    main()
