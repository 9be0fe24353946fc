"""The last step of a sandbox's isolation: a seccomp filter (libseccomp, through pyseccomp) that
refuses the system calls no notebook, TensorFlow, torch, Jupyter kernel or nbgrader run needs,
and which are the Linux kernel's attack surface for a process that already has no capability
and no way out of its namespaces: reading or writing another process's memory (``ptrace``,
``process_vm_*``: the kernel and nbgrader's executor share the sandbox's uid), ``io_uring``,
``bpf``, ``userfaultfd``, ``perf_event_open``, the kernel keyrings, new namespaces, mounts,
modules, ``kexec``, swap and the clock. Each fails with EPERM, as a call without the
privilege would; ``clone3`` fails with ENOSYS, so the C library falls back to ``clone``, whose
flags the filter can read (no new namespace). Everything else is allowed: a deny list keeps
the libraries working whatever they call next.

Inherited by every thread and child, and cannot be removed (``no_new_privs`` is set before).
"""
from __future__ import annotations

import errno

try:  # loads libseccomp when imported: in the grader, before any sandbox's fork
    import pyseccomp
except (ImportError, RuntimeError) as err:  # no libseccomp on this machine
    pyseccomp, UNAVAILABLE = None, f"no seccomp filter ({type(err).__name__}: {err})"
else:
    UNAVAILABLE = None

DENIED = (
    # another process's memory and registers
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel interfaces behind most recent privilege escalations
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "userfaultfd", "perf_event_open",
    "keyctl", "add_key", "request_key",
    # namespaces and mounts (the sandbox made its own before the filter)
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
    # the machine's
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "iopl", "ioperm", "uselib", "vhangup", "lookup_dcookie", "fanotify_init",
)
# clone's flags that make a namespace (CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET)
NAMESPACE_FLAGS = (0x80, 0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


def install() -> None:
    """Load the filter into the calling process (in a sandbox's child, after its privileges
    were dropped). Raises OSError where it cannot: the sandbox then refuses to start."""
    if pyseccomp is None:
        raise OSError(errno.ENOSYS, UNAVAILABLE)
    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    refused = pyseccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
        if number >= 0:  # a call this architecture has
            rules.add_rule(refused, number)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(refused, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()
