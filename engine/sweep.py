"""The sweep manifest: an interrupted Hydra multirun, started again with the same command and the same
`hydra.sweep.dir`, skips the jobs that finished and resumes the others where they stopped.

Hydra alone cannot: it numbers jobs by their position in the sweep and starts every one of them again. Here each
job of a multirun is known by its overrides (sorted, so `a=1 b=2` and `b=2 a=1` are one job) and by a hash of its
composed config; `<sweep dir>/sweep_manifest.jsonl` records, one JSON line per event, where each job ran and how
it ended. When a job starts:
- the manifest says it finished (`status: ok`) with the same config, and its summary.json agrees: it is skipped;
- it ran before in some directory and did not finish: it runs again in that directory, so its own resume (the
  run's `_stages` records, the stage store, the response and sandbox caches) picks up where it stopped, even if a
  changed sweep gave it another job number;
- otherwise it runs in its own Hydra job directory (suffixed with a hash of its overrides when that directory
  already belongs to another job of the manifest).

Any launcher works (`hydra/launcher=basic|joblib|ray|submitit_slurm`): the manifest is written by the jobs
themselves, under a file lock, so it lives wherever the sweep directory does (a shared filesystem for a
cluster). What the skip cannot see is a change to a stage's code: after editing code, sweep into a new
directory (unchanged stages still come from the stage store) or delete the manifest.

    python -m engine.sweep SWEEP_DIR   # one line per job: status, directory, overrides
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from filelock import FileLock
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from engine.graph import sha256

MANIFEST = "sweep_manifest.jsonl"


def job_key(overrides: list[str]) -> str:
    return " ".join(sorted(overrides))


@dataclass(frozen=True)
class JobRecord:
    key: str
    overrides: list[str]
    config_sha: str
    dir: str
    status: str  # "running" (started, not ended: still running, or killed) | "ok" | "failed" | "skipped"


class SweepManifest:
    def __init__(self, sweep_dir: Path):
        sweep_dir.mkdir(parents=True, exist_ok=True)
        self.path = sweep_dir / MANIFEST
        self._lock = FileLock(str(sweep_dir / f"{MANIFEST}.lock"))

    def append(self, record: JobRecord) -> None:
        line = json.dumps({**record.__dict__, "ts": time.time()}) + "\n"
        with self._lock, self.path.open("a") as f:
            f.write(line)

    def latest(self) -> dict[str, JobRecord]:
        """The last record of each job. `skipped` records do not count: they repeat an earlier `ok`."""
        if not self.path.is_file():
            return {}
        with self._lock:
            lines = self.path.read_text().splitlines()
        jobs: dict[str, JobRecord] = {}
        for line in lines:
            if not line.strip():
                continue
            data = json.loads(line)
            data.pop("ts", None)
            if data["status"] != "skipped":
                jobs[data["key"]] = JobRecord(**data)
        return jobs


def _summary_status(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "summary.json").read_text()).get("status")
    except (OSError, ValueError):
        return None


def _config_sha(cfg: DictConfig) -> str:
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException:  # the job's run reports it as a config error, in its summary
        data = OmegaConf.to_container(cfg, resolve=False)
    return sha256(json.dumps(data, sort_keys=True, default=str))


def run_sweep_job(hydra_cfg: DictConfig, cfg: DictConfig, run: Callable[[DictConfig, Path], dict[str, Any]]) -> str:
    """Run one job of a multirun under the manifest: skip it, resume it in its earlier directory, or run it."""
    overrides = list(hydra_cfg.overrides.task)
    key = job_key(overrides)
    config_sha = _config_sha(cfg)
    manifest = SweepManifest(Path(hydra_cfg.sweep.dir))
    before = manifest.latest().get(key)
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if before is not None and before.config_sha == config_sha:
        if before.status == "ok" and _summary_status(Path(before.dir)) == "ok":
            print(f"sweep: skipping {key or '(no overrides)'}: finished in {before.dir}", file=sys.stderr)
            manifest.append(JobRecord(key, overrides, config_sha, before.dir, "skipped"))
            return "ok"
        run_dir = Path(before.dir)
    elif any(job.dir == str(run_dir) for job in manifest.latest().values()):
        # a changed sweep gave this job the number (and directory) of another job: never write into its run
        run_dir = run_dir.with_name(f"{run_dir.name}-{sha256(key)[:8]}")
    manifest.append(JobRecord(key, overrides, config_sha, str(run_dir), "running"))
    status = "failed"
    try:
        status = run(cfg, run_dir)["status"]
    finally:  # a job that raised is recorded as failed; one that was killed stays "running"
        manifest.append(JobRecord(key, overrides, config_sha, str(run_dir), status))
    return status


class SweepExitStatus(Callback):
    """Hydra callback (conf/config.yaml): after a multirun, note whether any job of the sweep directory failed,
    so `python -m engine -m ...` exits non-zero like a failed single run does."""

    failed: ClassVar[list[str]] = []

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        jobs = SweepManifest(Path(config.hydra.sweep.dir)).latest().values()
        SweepExitStatus.failed = [f"{job.dir} ({job.key or 'no overrides'})" for job in jobs if job.status == "failed"]
        for job in SweepExitStatus.failed:
            print(f"sweep: job failed: {job}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m engine.sweep SWEEP_DIR", file=sys.stderr)
        return 2
    jobs = SweepManifest(Path(argv[0])).latest()
    if not jobs:
        print(f"no {MANIFEST} in {argv[0]}", file=sys.stderr)
        return 1
    for job in sorted(jobs.values(), key=lambda j: j.dir):
        print(f"{job.status:8} {job.dir}  {job.key}")
    counts = {s: sum(j.status == s for j in jobs.values()) for s in ("ok", "failed", "running")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
