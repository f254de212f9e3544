"""OS-level containment a worker applies to itself before it runs any untrusted code.

Order matters: everything that needs root (new network namespace, chroot, the uid change) comes first,
then the process drops to an unprivileged uid, after which it can neither raise its hard limits nor
create processes (RLIMIT_NPROC binds only non-root users). Each step is best effort: what actually holds
is reported back to the host (Sandbox.containment) rather than assumed.
"""

from __future__ import annotations

import ctypes
import os
import resource

CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
NOBODY = 65534
# Base of the per-worker uids: distinct uids keep workers from signalling or tracing each other.
WORKER_UID_BASE = 1_000_000
# A worker's whole-life CPU budget; the per-job limit is a soft limit re-armed below it before each job.
LIFETIME_CPU_S = 3600
OPEN_FILES = 32


def contain(workdir: str, memory_mb: int) -> dict[str, bool]:
    """Limit this process for good; returns which protections are in force."""
    libc = ctypes.CDLL(None, use_errno=True)
    held = {"network_namespace": libc.unshare(CLONE_NEWNET) == 0}
    os.chdir(workdir)
    try:
        os.chroot(workdir)
        os.chdir("/")
        held["chroot"] = True
    except OSError:
        held["chroot"] = False
    held["no_new_privileges"] = libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    for limit, value in ((resource.RLIMIT_AS, memory_mb * 2**20), (resource.RLIMIT_FSIZE, 0),
                         (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NPROC, 0),
                         (resource.RLIMIT_NOFILE, OPEN_FILES), (resource.RLIMIT_CPU, LIFETIME_CPU_S)):
        resource.setrlimit(limit, (value, value))
    held["unprivileged"] = drop_privileges()
    os.environ.clear()
    return held


def drop_privileges() -> bool:
    if os.getuid() != 0:
        return True
    for uid in (WORKER_UID_BASE + os.getpid(), NOBODY):
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            return True
        except OSError:
            continue
    return False


def arm_cpu_limit(cpu_s: int, used_s: float) -> None:
    """Let the next job use at most cpu_s more CPU seconds (SIGXCPU ends the worker past that)."""
    soft = min(LIFETIME_CPU_S, int(used_s) + 1 + cpu_s)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, LIFETIME_CPU_S))


def address_space_bytes() -> int:
    """This process's address space now; read before the chroot hides /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def limit_address_space(extra_bytes: int | None, baseline_bytes: int) -> None:
    """Let the next program map at most `extra_bytes` beyond the worker's own baseline (a soft limit under the
    hard one, so no privilege is needed to put it back); None lifts it to the hard limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if extra_bytes is None else min(hard, baseline_bytes + extra_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
