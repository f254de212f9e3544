"""The command line: `python -m engine +experiment=NAME`, its errors, and Hydra sweeps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from engine.config import PROJECT_ROOT, load
from engine.graph import build
from tests.conftest import lineage_problems

EXPERIMENTS = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "experiment").glob("*.yaml"))


def engine(*args: str, cache: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXECFEED_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=timeout)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_composes_and_validates(experiment):
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={experiment}"])
    graph = build(load(cfg))
    assert graph.order


def test_demo_runs_end_to_end(tmp_path):
    run_dir = tmp_path / "run"
    res = engine("+experiment=demo", f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert res.returncode == 0, res.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["error"] is None
    assert set(summary) >= {"experiment", "status", "error", "stages", "llm", "sandbox"}
    for stats in summary["stages"].values():
        assert set(stats) == {"rows_in", "rows_out", "rejected", "errors", "seconds", "reused"}
    assert "constraints_verifiable" in res.stderr and "rejected" in res.stderr  # the funnel table
    assert (run_dir / "plots" / "funnel.png").stat().st_size > 1000
    assert (run_dir / "engine.log").is_file()
    assert lineage_problems(run_dir) == {}


def test_no_experiment_says_how_to_choose_one(tmp_path):
    res = engine(cache=tmp_path / "cache")
    assert res.returncode == 2 and "+experiment=NAME" in res.stderr and "demo" in res.stderr


def test_unknown_experiment_is_named(tmp_path):
    res = engine("+experiment=nope", f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path / "cache")
    assert res.returncode != 0 and "experiment/nope" in res.stderr


def test_bad_override_type_names_the_key(tmp_path):
    res = engine("+experiment=demo", "demo.per_round=lots", f"hydra.run.dir={tmp_path / 'run'}",
                 cache=tmp_path / "cache")
    assert res.returncode == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and "params.per_round" in summary["error"]


def test_override_of_unknown_key_is_refused(tmp_path):
    res = engine("+experiment=demo", "demo.per_rund=2", f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path / "cache")
    assert res.returncode != 0 and "per_rund" in res.stderr


def test_malformed_yaml_is_reported_with_its_file(tmp_path):
    conf = tmp_path / "conf" / "experiment"
    conf.mkdir(parents=True)
    (conf / "broken.yaml").write_text("# @package _global_\nname: broken\nstages: {a: [1, 2\n")
    res = engine("+experiment=broken", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
                 f"hydra.run.dir={tmp_path / 'run'}", cache=tmp_path / "cache")
    assert res.returncode != 0 and "broken.yaml" in res.stderr


def test_parallel_sweep_with_joblib_shares_upstream_stages(tmp_path):
    sweep_dir = tmp_path / "sweep"
    res = engine("-m", "+experiment=demo", "demo.per_round=2,3", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                 f"hydra.sweep.dir={sweep_dir}", cache=tmp_path / "cache", timeout=600)
    assert res.returncode == 0, res.stderr
    summaries = [json.loads(p.read_text()) for p in sorted(sweep_dir.glob("*/summary.json"))]
    assert len(summaries) == 2 and all(s["status"] == "ok" for s in summaries)
    # the stages both jobs share were computed by exactly one of them, whichever got the lock first
    for stage in ("seed_constraints", "constraints_tagged", "constraints_verifiable"):
        assert sorted(s["stages"][stage]["reused"] for s in summaries) == [False, True], stage
    # the stage that differs was computed by both
    assert [s["stages"]["compounds"]["reused"] for s in summaries] == [False, False]


def test_a_sweep_with_a_failed_job_exits_non_zero_and_runs_the_others(tmp_path):
    sweep_dir = tmp_path / "sweep"
    res = engine("-m", "+experiment=demo", "demo.per_round=2,lots", f"hydra.sweep.dir={sweep_dir}",
                 cache=tmp_path / "cache")
    assert res.returncode == 1 and "sweep: job failed" in res.stderr
    statuses = sorted(json.loads(p.read_text())["status"] for p in sweep_dir.glob("*/summary.json"))
    assert statuses == ["failed", "ok"]


def test_a_sweep_job_with_an_unresolvable_interpolation_fails_without_a_traceback(tmp_path):
    sweep_dir = tmp_path / "sweep"
    res = engine("-m", "+experiment=demo", "demo.per_round=${nope}", f"hydra.sweep.dir={sweep_dir}",
                 cache=tmp_path / "cache")
    assert res.returncode == 1 and "sweep: job failed" in res.stderr and "Traceback" not in res.stderr
    (summary,) = [json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")]
    assert summary["error"].startswith("config error at demo.per_round (used as stages.compose.loop.stages.")
