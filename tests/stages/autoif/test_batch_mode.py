"""AutoIF with llm.mode: batch against the loopback server's Batch API: the same tables as an online run, half its
cost in the ledger, and a run killed while a batch is being answered, rerun, re-attaches to it and pays nothing
twice."""

from __future__ import annotations

import os
import signal
import time

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from engine.config import PROJECT_ROOT
from engine.testing.fake_openai import serve_in_process, serve_in_thread, stats
from tests.conftest import table
from tests.engine.test_resume import start_run
from tests.stages.autoif.test_loopback import _overrides

PRICE = "+llm.prices.sim-teacher={input: 1.0, output: 2.0}"
PATIENT = "llm.timeout_s=60"  # on a loaded machine a 1 s timeout resends requests the server answered (and bills)
BATCH = ["llm.mode=batch", "llm.batch.poll_s=0.02", "llm.batch.max_requests=40"]
NOT_COMPARED = {"llm_calls"}  # the ledger: attempts, latencies and prices differ by mode


def stage_tables(run_dir) -> dict[str, list[tuple]]:
    names = [t for (t,) in table(run_dir, "select table_name from information_schema.tables "
                                          "where table_schema = 'main' order by 1")]
    return {t: table(run_dir, f"select * exclude (created_at) from {t} order by all") if _has_created_at(run_dir, t)
            else table(run_dir, f"select * from {t} order by all") for t in names if t not in NOT_COMPARED}


def _has_created_at(run_dir, name: str) -> bool:
    return bool(table(run_dir, f"select 1 from information_schema.columns where table_name = '{name}' "
                               "and column_name = 'created_at'"))


@pytest.fixture(scope="module")
def online(tmp_path_factory):
    """An online AutoIF run through the loopback server: (summary, run dir, requests it sent, seeds file)."""
    from tests.conftest import compose_and_run

    tmp = tmp_path_factory.mktemp("online")
    seeds = _seeds(tmp)
    with serve_in_thread() as server:
        summary = compose_and_run("autoif", *_overrides(server.base_url, seeds), PRICE, PATIENT, run_dir=tmp / "run",
                                  cache_dir=tmp / "cache")
    assert summary["status"] == "ok", summary["error"]
    [(sent,)] = table(tmp / "run", "select count(distinct key) from llm_calls where attempt > 0")
    return summary, tmp / "run", sent, seeds


def _seeds(tmp):
    lines = (PROJECT_ROOT / "sample_data/ifeval_seed_constraints.txt").read_text().splitlines()
    path = tmp / "seeds.txt"
    path.write_text("\n".join(lines[:10]) + "\n")
    return path


def test_a_batch_run_gives_the_online_tables_at_half_the_cost(online, run_experiment, tmp_path):
    online_summary, online_dir, online_sent, seeds = online
    with serve_in_thread() as server:
        summary, run_dir = run_experiment("autoif", *_overrides(server.base_url, seeds), PRICE, *BATCH)
        served = server.server.stats()
    assert summary["status"] == "ok", summary["error"]
    assert served["requests"] == served["batch_lines"] == online_sent  # every request in a batch, none online
    assert served["batches"] > len([s for s in summary["stages"].values() if s.get("llm_calls")])
    assert stage_tables(run_dir) == stage_tables(online_dir)
    assert online_summary["llm"]["cost_usd"] > 0
    assert summary["llm"]["cost_usd"] == pytest.approx(online_summary["llm"]["cost_usd"] / 2, abs=2e-6)
    assert summary["llm"]["calls"] == online_summary["llm"]["calls"]


def test_a_batch_run_killed_mid_batch_reattaches_and_pays_nothing_twice(online, tmp_path):
    online_summary, online_dir, online_sent, seeds = online
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        with serve_in_process("--batch-delay-s", "2") as base_url:
            cfg = compose("config", overrides=["+experiment=autoif", *_overrides(base_url, seeds), PRICE, *BATCH])
            cfg = OmegaConf.to_container(cfg, resolve=True)
            cfg["cache_dir"], cfg["progress"] = str(tmp_path / "cache"), False
            run_dir = tmp_path / "run"
            killed = start_run(cfg, run_dir)
            deadline = time.monotonic() + 120
            while stats(base_url)["batches"] < 2:  # killed while its second batch is being answered
                assert killed.poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
            os.kill(killed.pid, signal.SIGKILL)
            killed.wait()
            at_kill = stats(base_url)
            assert at_kill["answered"] < at_kill["batch_lines"]
            assert start_run(cfg, run_dir).wait(timeout=600) == 0
            served = stats(base_url)
    assert served["answered"] == served["batch_lines"] == online_sent  # each request answered and paid once
    assert stage_tables(run_dir) == stage_tables(online_dir)
    [(cost,)] = table(run_dir, "select sum(cost_usd) from llm_calls")
    assert cost == pytest.approx(online_summary["llm"]["cost_usd"] / 2, abs=2e-6)
