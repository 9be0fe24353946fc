"""The sandbox's seccomp filter (hwtools.sandbox.syscall_filter), tried as an attacker would:
from inside a sandbox, raw system calls at another process of the sandbox (the kernel and
nbgrader's executor share its uid) and at the kernel interfaces behind recent privilege
escalations. Each is refused with EPERM; ordinary work (threads, fork, a subprocess, numpy)
still runs there."""
from __future__ import annotations

import errno
import json
import subprocess
import sys
import textwrap

from hwtools import sandbox

# x86_64 numbers; each attempt returns 0 where the call worked, else its errno
ATTACKS = r"""
import ctypes, json, os, signal, subprocess, threading, time
import numpy as np

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def call(number, *args):
    done = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    return 0 if done >= 0 else ctypes.get_errno()

seen = {}
victim = os.fork()  # a process of the same uid, as nbgrader's executor is to the kernel
if victim == 0:
    time.sleep(60)
    os._exit(0)
buffer = ctypes.create_string_buffer(16)
local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 16)
remote = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 16)  # the same address in the forked copy
seen["ptrace"] = call(101, 16, victim, 0, 0)  # PTRACE_ATTACH
seen["process_vm_readv"] = call(310, victim, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
seen["process_vm_writev"] = call(311, victim, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
params = ctypes.create_string_buffer(120)
seen["io_uring_setup"] = call(425, 4, ctypes.addressof(params))
seen["keyctl"] = call(250, 1, 0)  # KEYCTL_JOIN_SESSION_KEYRING, a new anonymous keyring
seen["add_key"] = call(248, ctypes.addressof(ctypes.create_string_buffer(b"user")),
                       ctypes.addressof(ctypes.create_string_buffer(b"hw")), 0, 0, -2)  # the session keyring
seen["userfaultfd"] = call(323, 1)  # UFFD_USER_MODE_ONLY
seen["unshare"] = call(272, 0x10000000)  # CLONE_NEWUSER
seen["setns"] = call(308, os.open("/proc/self/ns/net", os.O_RDONLY), 0)
os.kill(victim, signal.SIGKILL)
os.waitpid(victim, 0)

# what notebooks do still works
box = []
thread = threading.Thread(target=lambda: box.append(float(np.linalg.norm(np.ones((64, 64)) @ np.ones((64, 64))))))
thread.start(); thread.join()
child = os.fork()
if child == 0:
    os._exit(7)
ordinary = {"thread": box == [4096.0], "fork": os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 7,
            "subprocess": subprocess.run(["/bin/echo", "ok"], capture_output=True, text=True).stdout == "ok\n"}
print(json.dumps({"attacks": seen, "ordinary": ordinary}))
"""


def sandboxed(code: str) -> dict:
    box = sandbox.make_scratch("test-filter-")
    process = sandbox.popen([sys.executable, "-c", textwrap.dedent(code)], cwd=box, env=sandbox.scrubbed_env(box),
                            limits=sandbox.Limits(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=120)
    sandbox.kill_group(process)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out)


def test_calls_at_another_process_and_at_the_kernels_attack_surface_are_refused():
    seen = sandboxed(ATTACKS)
    worked = {name: result for name, result in seen["attacks"].items() if result != errno.EPERM}
    assert worked == {}, f"not refused with EPERM (0 = it worked): {worked}"
    assert seen["ordinary"] == {"thread": True, "fork": True, "subprocess": True}


def test_a_sandbox_that_cannot_filter_does_not_start(monkeypatch):
    """Where libseccomp is missing, the isolation probe says so, and student code does not run."""
    from hwtools.sandbox import isolation, syscall_filter

    monkeypatch.setattr(syscall_filter, "pyseccomp", None)
    monkeypatch.setattr(syscall_filter, "UNAVAILABLE", "no seccomp filter (RuntimeError: Unable to find libseccomp)")
    box = sandbox.make_scratch("test-filter-")
    problem = isolation.probe(isolation.Plan(writable=box, network=True, filesystem=True))
    assert problem is not None and "no seccomp filter" in problem
