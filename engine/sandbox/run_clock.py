"""A job's wall-clock limit on a busy machine counts the time its worker could run, not the time it waited for a core.

On a machine loaded by other processes a worker may get a fifth of a core: a job needing 0.3 s of CPU then takes
1.5 s of wall time, and a 1 s limit would call it a timeout on a busy machine and ok on a quiet one. So when a
job's deadline passes while its worker is runnable (state R: running, or ready and waiting for a core) and has used
less CPU than the limit since the job began, the deadline moves on by the CPU time the job still has, up to
STARVED_CAP times the limit in all. A worker that is blocked (sleeping, waiting on I/O) is not starved: its
deadline holds. The per-job CPU limit (RLIMIT_CPU in the worker) stays as it was. Without /proc (not Linux) the
limit is the plain wall clock.
"""

from __future__ import annotations

import os

STARVED_CAP = 10  # a starved job still ends by STARVED_CAP x its limit of wall time, whatever the load
CPU_SHARE_SPENT = 0.95  # a job that used this share of its limit in CPU has had its time (ticks are 10 ms)
TICK_S = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


class RunClock:
    """The CPU time and run state of one worker process, read from /proc/PID/stat."""

    def __init__(self, pid: int):
        try:
            self._fd: int | None = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def cpu_s(self) -> float | None:
        """CPU seconds the worker has used (user + system), or None when it cannot be read."""
        sample = self._sample()
        return None if sample is None else sample[1]

    def _sample(self) -> tuple[str, float] | None:
        if self._fd is None:
            return None
        try:
            stat = os.pread(self._fd, 4096, 0).decode()
        except OSError:  # the process is gone
            return None
        # after the command name in parentheses (which may hold spaces): state, ..., utime (14th), stime (15th)
        fields = stat[stat.rfind(")") + 2:].split()
        return fields[0], (int(fields[11]) + int(fields[12])) * TICK_S

    def more_time(self, limit_s: float, waited_s: float, cpu_at_start: float | None) -> float:
        """Seconds to add to a job's passed deadline because its worker was starved of CPU; 0: it has had its
        time (or is blocked, or hit the cap), and the job is a timeout."""
        sample = self._sample()
        if sample is None or cpu_at_start is None:
            return 0.0
        state, cpu = sample
        used = cpu - cpu_at_start
        if state != "R" or used >= CPU_SHARE_SPENT * limit_s:
            return 0.0
        return max(0.0, min(limit_s - used, STARVED_CAP * limit_s - waited_s))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
