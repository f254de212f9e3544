"""A job's clock on a busy machine: a starved worker runs on, a blocked or spent one does not; a worker that died by
itself is a crash however late the host looks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.sandbox import Job, Sandbox
from engine.sandbox.process import WorkerProcess, WorkerSettings
from engine.sandbox.run_clock import STARVED_CAP, RunClock

IDENTITY = "def f(x):\n    return x\n"
BUSY = "def f(x):\n    total = 0\n    for i in range(x):\n        total = total + i\n    return total\n"

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the run clock reads /proc")


@pytest.fixture
def child():
    procs = []

    def start(code: str) -> subprocess.Popen:
        procs.append(subprocess.Popen([sys.executable, "-c", code]))
        return procs[-1]

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_runnable_worker_under_its_cpu_limit_gets_more_time(child):
    spinning = child("while True: pass")
    clock = RunClock(spinning.pid)
    start = clock.cpu_s()
    assert start is not None
    # a limit far above what it has used: whatever the load, it has not had its time
    assert clock.more_time(limit_s=1000.0, waited_s=1000.0, cpu_at_start=start) > 0
    clock.close()


def test_a_blocked_worker_a_spent_one_and_one_at_the_cap_get_none(child):
    sleeping = child("import time; time.sleep(600)")
    spinning = child("while True: pass")
    blocked, busy = RunClock(sleeping.pid), RunClock(spinning.pid)
    while blocked._sample()[0] != "S":  # noqa: SLF001 - until the interpreter is up and asleep
        pass
    assert blocked.more_time(limit_s=1000.0, waited_s=0.0, cpu_at_start=blocked.cpu_s()) == 0
    assert busy.more_time(limit_s=1.0, waited_s=1.0, cpu_at_start=busy.cpu_s() - 1.0) == 0  # used its second
    assert busy.more_time(limit_s=1.0, waited_s=STARVED_CAP * 1.0, cpu_at_start=busy.cpu_s()) == 0
    blocked.close()
    busy.close()


def test_a_gone_process_gets_no_more_time(child):
    done = child("pass")
    clock = RunClock(done.pid)
    start = clock.cpu_s()
    done.wait()
    assert clock.more_time(limit_s=1000.0, waited_s=0.0, cpu_at_start=start) == 0
    clock.close()


def test_a_worker_that_crashed_before_the_host_looked_is_a_crash_not_a_timeout():
    worker = WorkerProcess(WorkerSettings(memory_mb=256, cpu_s=5, allowed_imports=()))
    worker.wait_ready()
    os.kill(worker.pid, signal.SIGSEGV)
    worker.process.wait()
    # the host saw no reply by the deadline (it ran late): the worker is dead by its own signal, not ours
    failure = worker.failure(0, stalled=True)
    assert failure.outcome.status == "error" and "SIGSEGV" in failure.outcome.message and failure.retry
    worker.close()


def test_a_stalled_live_worker_is_killed_as_a_timeout():
    worker = WorkerProcess(WorkerSettings(memory_mb=256, cpu_s=5, allowed_imports=()))
    worker.wait_ready()
    failure = worker.failure(0, stalled=True)
    assert failure.outcome.status == "timeout" and not failure.retry
    assert worker.process.returncode == -signal.SIGKILL
    worker.close()


def lowest_group_priority(pid: int) -> None:
    """With autogroup scheduling a worker (its own session) shares the CPU with other sessions by group, whatever
    its own nice value: lower its group's priority too (nice 10)."""
    group = Path(f"/proc/{pid}/autogroup")
    if group.exists():
        try:
            group.write_text("10")
        except OSError:
            pytest.skip("cannot lower the worker's autogroup priority here")


def test_a_job_starved_of_cpu_past_its_limit_is_answered_not_timed_out(child):
    """The worker shares one core with a CPU hog at a low priority (nice 10: about a tenth of the core), as on a
    machine too busy to run it: its job takes longer than the limit in wall time, but little CPU: it is answered."""
    hog = child("while True: pass")
    with Sandbox(workers=1, timeout_s=0.3, memory_mb=256) as sb:
        sb.run([Job(IDENTITY, "f", (0,))])
        (pid,) = sb.worker_pids()
        core = {min(os.sched_getaffinity(0))}
        os.sched_setaffinity(pid, core)
        os.sched_setaffinity(hog.pid, core)
        os.setpriority(os.PRIO_PROCESS, pid, 10)
        lowest_group_priority(pid)
        [outcome] = sb.run([Job(BUSY, "f", (1_000_000,))])
        assert sb.stats["timeouts"] == 0
    assert outcome.status == "ok" and outcome.value == sum(range(1_000_000))
