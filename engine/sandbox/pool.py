"""Sandbox: a pool of contained worker processes that runs batches of jobs, with an outcome cache.

A batch is split into chunks (one pipe round trip each, not one per job) that the workers take in turn;
each worker is reused across chunks and compiles each distinct source once. A job that kills its worker
(timeout, crash) gets its outcome and the rest of its chunk continues on a fresh worker; a crash is
retried once on a fresh worker (it may have been set up by an earlier job), a timeout never.

Program jobs (ProgramJob) run in the same batches, their limits capped by the sandbox's; their outputs are
cached as printed and judged against the expected output afterwards (judge.py), so one run of a program on an
input serves every test that proposes that input.
"""

from __future__ import annotations

import importlib.util
import math
import queue
import sys
import threading
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import yaml
from tqdm import tqdm

from engine.sandbox.cache import OutcomeCache, outcome_key
from engine.sandbox.judge import judged
from engine.sandbox.outcome import Job, Outcome, ProgramJob, as_verdict
from engine.sandbox.process import WorkerProcess, WorkerSettings

DEFAULT_CONFIG_PATH = Path(__file__).parents[2] / "conf/sandbox/default.yaml"
CACHE_MODES = ("readwrite", "readonly", "off")
STAT_KEYS = ("executions", "cache_hits", "timeouts", "memory", "forbidden", "errors")
STATUS_COUNTER = {"timeout": "timeouts", "memory": "memory", "forbidden": "forbidden", "error": "errors",
                  "syntax": "errors"}
MAX_CHUNK = 256
# Chunks per worker in a batch: enough for the workers to finish together, few enough to stay cheap.
CHUNKS_PER_WORKER = 4


def default_allowed_imports() -> tuple[str, ...]:
    """The whitelist in conf/sandbox/default.yaml, the one source of truth for it."""
    return tuple(yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())["allowed_imports"])


def validated_imports(names: Iterable[str]) -> tuple[str, ...]:
    names = tuple(names)
    for name in names:
        if not isinstance(name, str) or "." in name or importlib.util.find_spec(name) is None:
            raise ValueError(f"sandbox.allowed_imports: expected top-level module names, got {name!r}")
    return names


class Sandbox:
    """Runs untrusted functions in contained worker processes. Use as a context manager, or call close().

    run() is serialised: call it from one thread at a time (it uses all workers itself).
    """

    def __init__(self, workers: int = 2, timeout_s: float = 2.0, memory_mb: int = 512,
                 cpu_s: float | None = None, allowed_imports: Iterable[str] | None = None,
                 cache: str = "readwrite", cache_path: str | Path | None = None, progress: bool = True):
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"sandbox.workers: expected an int >= 1, got {workers!r}")
        if not timeout_s > 0:
            raise ValueError(f"sandbox.timeout_s: expected seconds > 0, got {timeout_s!r}")
        if not isinstance(memory_mb, int) or memory_mb < 64:
            raise ValueError(f"sandbox.memory_mb: expected an int >= 64, got {memory_mb!r}")
        if cpu_s is not None and not cpu_s > 0:
            raise ValueError(f"sandbox.cpu_s: expected seconds > 0 or null, got {cpu_s!r}")
        if cache not in CACHE_MODES:
            raise ValueError(f"sandbox.cache: expected one of {CACHE_MODES}, got {cache!r}")
        imports = validated_imports(default_allowed_imports() if allowed_imports is None else allowed_imports)
        self.workers = workers
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.settings = WorkerSettings(memory_mb, cpu_s or math.ceil(timeout_s) + 1, imports)
        # Everything that can change a job's outcome besides the job itself.
        self.limits = (self.timeout_s, memory_mb, self.settings.cpu_s, tuple(sorted(imports)))
        self.cache = (OutcomeCache(cache_path, readonly=cache == "readonly")
                      if cache_path is not None and cache != "off" else None)
        self.counts = dict.fromkeys(STAT_KEYS, 0)
        self.slots: list[WorkerProcess | None] = [None] * workers
        self.threads = ThreadPoolExecutor(workers, thread_name_prefix="sandbox")
        self.lock = threading.Lock()
        self.closed = False
        self.desc: str | None = None  # the progress bar's label for the batch being run
        self.progress = progress  # False: no bar even with a label (the run's `progress=false`)
        self.finalizer = weakref.finalize(self, close_workers, self.slots)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """Counters since creation: jobs executed, cache hits, and executed jobs per non-ok status
        ("errors" counts both error and syntax)."""
        return dict(self.counts)

    @property
    def containment(self) -> dict[str, bool]:
        """Which OS-level protections the workers got (network namespace, chroot, unprivileged uid...)."""
        with self.lock:
            self.start_workers()
            return dict(self.slots[0].containment)

    def worker_pids(self) -> list[int]:
        return [worker.pid for worker in self.slots if worker is not None]

    def run(self, jobs: Iterable[Job | ProgramJob], *, expect_bool: bool = False,
            desc: str | None = None) -> list[Outcome]:
        """One Outcome per job, in order. expect_bool=True applies as_verdict to function jobs: any ok value
        that is not a real bool becomes an error "non-bool". A ProgramJob with an expected output comes back ok
        or wrong_answer when it ran to its end. With `desc`, a progress bar counts executed jobs."""
        jobs = [self.capped(job) for job in jobs]
        with self.lock:
            if self.closed:
                raise RuntimeError("Sandbox.run called after close()")
            self.desc = desc
            outcomes = self.run_cached(jobs) if self.cache is not None else self.run_uncached(jobs)
        return [judged(o, job) if isinstance(job, ProgramJob) else as_verdict(o) if expect_bool else o
                for job, o in zip(jobs, outcomes, strict=True)]

    def capped(self, job: Job | ProgramJob) -> Job | ProgramJob:
        """A program's limits as they apply here: the task's, never above the sandbox's own."""
        if isinstance(job, Job):
            return job
        if not isinstance(job, ProgramJob):
            raise TypeError(f"Sandbox.run expects Job or ProgramJob objects, got {type(job).__name__}")
        return replace(job, time_limit_s=min(job.time_limit_s or self.timeout_s, self.timeout_s),
                       memory_mb=min(job.memory_mb or self.memory_mb, self.memory_mb))

    def run_uncached(self, jobs: list[Job | ProgramJob]) -> list[Outcome]:
        return [outcome for outcome, _ in self.execute(jobs)]

    def run_cached(self, jobs: list[Job | ProgramJob]) -> list[Outcome]:
        keys = [outcome_key(job, self.limits) for job in jobs]
        known = self.cache.get_many(list(dict.fromkeys(keys)))
        self.counts["cache_hits"] += sum(key in known for key in keys)
        # Identical jobs in one batch run once.
        first_of_key = {}
        for position, key in enumerate(keys):
            if key not in known:
                first_of_key.setdefault(key, position)
        executed = self.execute([jobs[position] for position in first_of_key.values()])
        self.cache.put_many((key, outcome) for key, (outcome, cacheable)
                            in zip(first_of_key, executed, strict=True) if cacheable)
        known.update((key, outcome) for key, (outcome, _) in zip(first_of_key, executed, strict=True))
        return [known[key] for key in keys]

    def execute(self, jobs: list[Job | ProgramJob]) -> list[tuple[Outcome, bool]]:
        """Run jobs on the workers: (outcome, cacheable) per job, in order."""
        if not jobs:
            return []
        self.start_workers()
        results: list[tuple[Outcome, bool] | None] = [None] * len(jobs)
        size = max(1, min(MAX_CHUNK, math.ceil(len(jobs) / (self.workers * CHUNKS_PER_WORKER))))
        chunks: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        for start in range(0, len(jobs), size):
            chunks.put(list(range(start, min(len(jobs), start + size))))
        with tqdm(total=len(jobs), desc=self.desc, disable=self.desc is None or not self.progress, file=sys.stderr,
                  leave=False, dynamic_ncols=True) as bar:
            drains = [self.threads.submit(self.drain, slot, chunks, jobs, results, bar)
                      for slot in range(min(self.workers, math.ceil(len(jobs) / size)))]
            for drain in drains:
                drain.result()
        self.counts["executions"] += len(jobs)
        for outcome, _ in results:
            if outcome.status in STATUS_COUNTER:
                self.counts[STATUS_COUNTER[outcome.status]] += 1
        return results

    def drain(self, slot: int, chunks: queue.SimpleQueue, jobs: list[Job | ProgramJob], results: list,
              bar: tqdm) -> None:
        """Take chunks until none are left, on this slot's worker, replacing the worker when it dies."""
        while True:
            try:
                pending = chunks.get_nowait()
            except queue.Empty:
                return
            chunk_size = len(pending)
            retried: set[int] = set()
            while pending:
                worker = self.slots[slot] or self.replace_worker(slot)
                done, failure = worker.execute([jobs[i] for i in pending], self.timeout_s)
                for position, outcome in zip(pending, done, strict=False):  # done stops at a failure
                    results[position] = (outcome, True)
                if failure is None:
                    break
                self.replace_worker(slot)
                culprit = pending[failure.position]
                if failure.retry and culprit not in retried:
                    retried.add(culprit)
                    pending = pending[failure.position:]
                else:
                    results[culprit] = (failure.outcome, not failure.retry)
                    pending = pending[failure.position + 1:]
            bar.update(chunk_size)

    def replace_worker(self, slot: int) -> WorkerProcess:
        if self.slots[slot] is not None:
            self.slots[slot].close(grace_s=0)
        worker = WorkerProcess(self.settings)
        self.slots[slot] = worker
        worker.wait_ready()
        return worker

    def start_workers(self) -> None:
        """Start missing workers all at once, so their start-up overlaps."""
        started = []
        for slot, worker in enumerate(self.slots):
            if worker is None:
                self.slots[slot] = WorkerProcess(self.settings)
                started.append(self.slots[slot])
        for worker in started:
            worker.wait_ready()

    def close(self) -> None:
        """Stop and reap every worker and remove their directories; safe to call twice."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.threads.shutdown(wait=True)
            self.finalizer()
            if self.cache is not None:
                self.cache.close()


def close_workers(slots: list[WorkerProcess | None]) -> None:
    for slot, worker in enumerate(slots):
        if worker is not None:
            worker.close()
            slots[slot] = None
