"""Host-side handle of one worker process: start it, feed it a chunk, watch the clock, kill it.

The wall-clock limit is enforced here, not in the worker: loops that run inside C (`any(itertools.repeat(0))`,
huge integer powers, backtracking regexes) ignore signals, so the only reliable end is SIGKILL from outside. The
limit counts the time the worker could run (engine.sandbox.run_clock): a busy machine does not turn a job into a
timeout. A worker that died by itself is a crash, whenever it is noticed: only a worker this host killed for
overrunning is a timeout.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine.sandbox.channel import FrameReader, ProtocolError, encode_frame
from engine.sandbox.outcome import Job, Outcome, ProgramJob
from engine.sandbox.run_clock import RunClock

PACKAGE_DIR = Path(__file__).resolve().parent
# Import engine.sandbox.worker without running engine/__init__.py, whatever the rest of the engine imports.
BOOTSTRAP = f"""
import sys, types
for name, path in (("engine", {str(PACKAGE_DIR.parent)!r}), ("engine.sandbox", {str(PACKAGE_DIR)!r})):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
from engine.sandbox.worker import main
main()
"""
# A fixed hash seed makes set and dict-of-set orders, and so return values, the same in every worker.
WORKER_ENV = {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
STARTUP_TIMEOUT_S = 60.0
# While a chunk runs, wait this long between reads so replies arrive in batches, not one wake-up each.
READ_PAUSE_S = 0.001


@dataclass(frozen=True)
class WorkerSettings:
    memory_mb: int
    cpu_s: float
    allowed_imports: tuple[str, ...]


def wire(job: Job | ProgramJob, timeout_s: float) -> tuple:
    """A job as the worker reads it (see worker.py); a program's time limit is its CPU limit there too."""
    if isinstance(job, ProgramJob):
        return ("program", job.source, job.stdin, job_timeout(job, timeout_s), job.memory_mb)
    return ("call", job.source, job.entry, job.args)


def job_timeout(job: Job | ProgramJob, timeout_s: float) -> float:
    """The wall-clock limit of one job: the batch's, or a program's own when it is lower."""
    if isinstance(job, ProgramJob) and job.time_limit_s is not None:
        return min(timeout_s, job.time_limit_s)
    return timeout_s


@dataclass(frozen=True)
class Failure:
    """Why a chunk stopped early: the job at `position` got `outcome`, unless `retry` says to run it again."""

    position: int
    outcome: Outcome
    retry: bool


class WorkerProcess:
    def __init__(self, settings: WorkerSettings):
        self.workdir = tempfile.mkdtemp(prefix="sandbox-")
        to_worker_r, self.to_worker = os.pipe()
        self.from_worker, from_worker_w = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-P", "-c", BOOTSTRAP, str(to_worker_r), str(from_worker_w)],
            pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd=self.workdir, env=WORKER_ENV, start_new_session=True)
        os.close(to_worker_r)
        os.close(from_worker_w)
        # Writes must never block the host on a worker that stopped reading.
        os.set_blocking(self.to_worker, False)
        self.reader = FrameReader()
        self.clock = RunClock(self.process.pid)
        self.containment: dict[str, bool] = {}
        self.send({"memory_mb": settings.memory_mb, "cpu_s": settings.cpu_s, "workdir": self.workdir,
                   "allowed_imports": list(settings.allowed_imports)}, time.monotonic() + STARTUP_TIMEOUT_S)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> None:
        """Wait for the worker's hello; raises RuntimeError if it cannot start."""
        frames, _ = self.receive(time.monotonic() + STARTUP_TIMEOUT_S, 1)
        hello = frames[0] if frames else None
        if not isinstance(hello, dict) or "containment" not in hello:
            self.close()
            detail = hello.get("failed") if isinstance(hello, dict) else f"status {self.process.poll()}"
            raise RuntimeError(f"sandbox worker failed to start: {detail}")
        self.containment = hello["containment"]

    def send(self, message: object, deadline: float) -> bool:
        """Write one frame before the deadline; False if the worker is gone or not reading."""
        data = memoryview(encode_frame(message))
        poller = select.poll()
        poller.register(self.to_worker, select.POLLOUT)
        try:
            while data:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not poller.poll(remaining * 1000):
                    return False
                data = data[os.write(self.to_worker, data):]
        except (BrokenPipeError, BlockingIOError):
            return False
        return True

    def receive(self, deadline: float, count: int) -> tuple[list[object], bool]:
        """Frames until `count` arrived, the deadline passed or the worker closed its pipe (then True)."""
        frames: list[object] = []
        poller = select.poll()
        poller.register(self.from_worker, select.POLLIN)
        while len(frames) < count:
            # past the deadline still one look without waiting: a host that ran late must not miss a reply or
            # the end of a worker that was there in time
            remaining = max(0.0, deadline - time.monotonic())
            if not poller.poll(remaining * 1000):
                return frames, False
            data = os.read(self.from_worker, 1 << 20)
            if not data:
                return frames, True
            frames.extend(self.reader.feed(data))
        return frames, False

    def execute(self, jobs: list[Job | ProgramJob], timeout_s: float) -> tuple[list[Outcome], Failure | None]:
        """Run a chunk; outcomes of the jobs that finished, in order, and why it stopped early if it did."""
        # writing the chunk is no job's time: a worker slow to read it on a busy machine gets the startup's grace
        if not self.send([wire(job, timeout_s) for job in jobs], time.monotonic() + max(timeout_s, STARTUP_TIMEOUT_S)):
            return [], self.failure(0, stalled=True)
        outcomes: list[Outcome] = []
        while len(outcomes) < len(jobs):
            job_started, cpu_at_start = time.monotonic(), self.clock.cpu_s()
            limit = job_timeout(jobs[len(outcomes)], timeout_s)
            deadline = job_started + limit
            try:
                while True:
                    frames, ended = self.receive(deadline, 1)
                    more = 0.0 if frames or ended else self.clock.more_time(limit, time.monotonic() - job_started,
                                                                             cpu_at_start)
                    if not more:
                        break
                    deadline = time.monotonic() + more  # starved of CPU, not over its time: it runs on
            except ProtocolError as e:
                self.kill()
                return outcomes, Failure(len(outcomes), Outcome("error", None, str(e)), retry=False)
            if not frames:
                return outcomes, self.failure(len(outcomes), stalled=not ended)
            outcomes.extend(Outcome(*frame) for frame in frames)
            if len(outcomes) < len(jobs):
                time.sleep(READ_PAUSE_S)
        return outcomes, None

    def failure(self, position: int, stalled: bool) -> Failure:
        """Classify why the worker stopped answering; `stalled` means it was alive when the clock ran out. Only a
        worker this host killed is a timeout: one that died by itself meanwhile (its status is not our SIGKILL) is
        classified by its status, as if it had been noticed in time."""
        if stalled and self.process.poll() is None:
            self.kill()
            if self.process.returncode == -signal.SIGKILL:
                return Failure(position, Outcome("timeout", None, "wall-clock limit exceeded"), retry=False)
        returncode = self.process.wait()
        if returncode == -signal.SIGXCPU:
            return Failure(position, Outcome("timeout", None, "CPU time limit exceeded"), retry=False)
        if returncode == 0:  # the worker retired at a chunk boundary (see worker.serve)
            return Failure(position, Outcome("error", None, "worker retired"), retry=True)
        cause = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"status {returncode}"
        return Failure(position, Outcome("error", None, f"worker crashed ({cause})"), retry=True)

    def kill(self) -> None:
        if self.process.poll() is None:  # once reaped, the pid may belong to someone else
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def close(self, grace_s: float = 1.0) -> None:
        """Ask the worker to exit (end of input), kill it if it does not, reap it, remove its directory."""
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        self.clock.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
