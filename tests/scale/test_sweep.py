"""The sweep manifest: an interrupted multirun, started again with the same command, skips finished jobs and
resumes the others in their own directories (real `python -m engine -m` processes, the demo experiment)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.config import PROJECT_ROOT
from engine.sweep import MANIFEST, SweepManifest, job_key


def sweep(sweep_dir: Path, cache: Path, *values: str, wait: bool = True):
    args = [sys.executable, "-m", "engine", "-m", "+experiment=demo", f"demo.per_round={','.join(values)}",
            f"hydra.sweep.dir={sweep_dir}"]
    env = {**os.environ, "EXECFEED_CACHE_DIR": str(cache)}
    if not wait:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def job(per_round: int) -> str:
    return job_key(["+experiment=demo", f"demo.per_round={per_round}"])


def statuses(sweep_dir: Path) -> dict[str, tuple[str, str]]:
    return {k: (j.status, Path(j.dir).name) for k, j in SweepManifest(sweep_dir).latest().items()}


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_a_finished_sweep_started_again_skips_every_job(tmp_path):
    first = sweep(tmp_path / "sweep", tmp_path / "cache", "2", "3")
    assert first.returncode == 0, first.stderr
    assert statuses(tmp_path / "sweep") == {job(2): ("ok", "0"), job(3): ("ok", "1")}
    stamps = [(tmp_path / "sweep" / n / "summary.json").stat().st_mtime_ns for n in "01"]
    again = sweep(tmp_path / "sweep", tmp_path / "cache", "2", "3")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("sweep: skipping") == 2
    assert [(tmp_path / "sweep" / n / "summary.json").stat().st_mtime_ns for n in "01"] == stamps


def test_a_killed_sweep_resumes_unfinished_jobs_and_skips_finished_ones(tmp_path):
    sweep_dir = tmp_path / "sweep"
    proc = sweep(sweep_dir, tmp_path / "cache", "2", "3", wait=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job(3) not in statuses(sweep_dir):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the second job has started: kill the sweep and the job with it
    proc.wait(30)
    assert statuses(sweep_dir) == {job(2): ("ok", "0"), job(3): ("running", "1")}
    again = sweep(sweep_dir, tmp_path / "cache", "2", "3")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("sweep: skipping") == 1
    assert statuses(sweep_dir)[job(3)] == ("ok", "1")
    assert summary(sweep_dir / "1")["status"] == "ok"


def test_a_changed_sweep_keeps_each_jobs_directory(tmp_path):
    sweep_dir = tmp_path / "sweep"
    assert sweep(sweep_dir, tmp_path / "cache", "2", "3").returncode == 0
    wider = sweep(sweep_dir, tmp_path / "cache", "1", "2", "3")  # job numbers shift by one
    assert wider.returncode == 0, wider.stderr
    jobs = statuses(sweep_dir)
    assert jobs[job(2)] == ("ok", "0") and jobs[job(3)] == ("ok", "1")
    status, new_dir = jobs[job(1)]
    assert status == "ok" and new_dir not in ("0", "1")
    assert summary(sweep_dir / "0")["stages"]["compounds"]["rows_out"] != summary(sweep_dir / new_dir)["stages"][
        "compounds"]["rows_out"]


def test_job_identity_ignores_the_order_of_overrides():
    assert job_key(["b=2", "a=1"]) == job_key(["a=1", "b=2"])


def test_the_status_command_lists_each_job(tmp_path):
    assert sweep(tmp_path / "sweep", tmp_path / "cache", "2").returncode == 0
    out = subprocess.run([sys.executable, "-m", "engine.sweep", str(tmp_path / "sweep")], capture_output=True,
                         text=True, cwd=PROJECT_ROOT, timeout=60)
    assert out.returncode == 0 and job(2) in out.stdout and "1 ok, 0 failed, 0 running" in out.stdout
    assert (tmp_path / "sweep" / MANIFEST).is_file()
