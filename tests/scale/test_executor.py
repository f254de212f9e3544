"""Sharded stages on the local executor and on a real local Ray cluster (2 CPUs, 2 actors), against two loopback
OpenAI servers as a fleet: the same tables wherever the shards ran, and a killed worker changes nothing."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.runner import run
from engine.testing.fake_openai import serve_in_process, stats
from tests.conftest import table

STAGE_TABLES = ("answers_checked", "answers_checked__rejected")


@pytest.fixture(scope="module")
def fleet():
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_process("--latency-ms", "5")) for _ in range(2)]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="executor=ray needs the optional package ray (extra 'scale')")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def questions_file(tmp_path: Path, n: int = 60) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"text": f"question {i} " + "word " * (i % 7)}) + "\n" for i in range(n)))
    return path


def config(tmp_path: Path, name: str, fleet: list[str], executor: dict, kill_switch: str = "") -> dict:
    return {
        "name": "t", "seed": 3, "cache_dir": str(tmp_path / name / "cache"), "progress": False,
        "llm": {"backend": "openai", "model": "fake", "base_url": fleet, "api_key": "test", "max_in_flight": 4,
                "backoff_s": 0.01, "progress": False},
        "roles": {"teacher": {}},
        "sandbox": {"workers": 1, "timeout_s": 2.0},
        "executor": executor,
        "stages": {
            "questions": {"source": str(questions_file(tmp_path))},
            "answers_checked": {"fn": "tests.scale.shard_stages:answers_checked", "inputs": ["questions"],
                                "llm": ["teacher"], "sandbox": True, "shard": {"input": "questions", "size": 8},
                                "params": {"kill_switch": kill_switch}},
        },
    }


def tables(run_dir: Path) -> dict[str, list[tuple]]:
    return {t: table(run_dir, f"SELECT * EXCLUDE (llm_key) FROM {t} ORDER BY id") for t in STAGE_TABLES}


def fingerprints(run_dir: Path) -> list[tuple]:
    return table(run_dir, "SELECT stage, fingerprint FROM _stages ORDER BY stage")


def reset(fleet: list[str]) -> None:
    for url in fleet:
        stats(url, reset=True)


def requests_served(fleet: list[str]) -> int:
    return sum(stats(url)["requests"] for url in fleet)


def test_local_sharded_run_is_reproducible_and_spread_over_the_fleet(tmp_path, fleet):
    reset(fleet)
    first = run(config(tmp_path, "a", fleet, {"kind": "local"}), tmp_path / "a" / "run")
    assert first["status"] == "ok", first["error"]
    assert all(stats(url)["requests"] > 10 for url in fleet)
    second = run(config(tmp_path, "b", fleet, {"kind": "local"}), tmp_path / "b" / "run")
    assert tables(tmp_path / "a" / "run") == tables(tmp_path / "b" / "run")
    stage = first["stages"]["answers_checked"]
    assert stage["rows_out"] > 0 and stage["rejected"].get("verifier_says_no", 0) > 0
    assert first["sandbox"]["executions"] == 60 == second["sandbox"]["executions"]


def test_each_shard_draws_from_its_own_seeded_rng(tmp_path, fleet):
    run(config(tmp_path, "a", fleet, {"kind": "local"}), tmp_path / "a" / "run")
    draws = [r[0] for r in table(tmp_path / "a" / "run", "SELECT draw FROM answers_checked UNION ALL "
                                 "SELECT draw FROM answers_checked__rejected")]
    assert len(set(draws)) == 60  # shards seeded alike would repeat the same draws


def test_a_sharded_run_on_ray_gives_the_same_tables_as_a_local_run(tmp_path, fleet, ray_cluster):
    local = run(config(tmp_path, "local", fleet, {"kind": "local"}), tmp_path / "local" / "run")
    reset(fleet)
    on_ray = run(config(tmp_path, "ray", fleet, {"kind": "ray", "actors": 2}), tmp_path / "ray" / "run")
    assert on_ray["status"] == "ok", on_ray["error"]
    assert tables(tmp_path / "ray" / "run") == tables(tmp_path / "local" / "run")
    assert fingerprints(tmp_path / "ray" / "run") == fingerprints(tmp_path / "local" / "run")
    # the ledger and sandbox counts came back from the workers
    assert on_ray["llm"]["calls"] == local["llm"]["calls"] == requests_served(fleet) == 60
    assert on_ray["sandbox"]["executions"] == local["sandbox"]["executions"] == 60
    assert table(tmp_path / "ray" / "run", "SELECT count(*) FROM llm_calls")[0][0] == 60


def test_a_ray_worker_killed_mid_stage_changes_nothing_and_pays_no_reply_twice(tmp_path, fleet, ray_cluster):
    run(config(tmp_path, "local", fleet, {"kind": "local"}), tmp_path / "local" / "run")
    switch = tmp_path / "kill_switch"
    switch.write_text("armed")
    reset(fleet)
    on_ray = run(config(tmp_path, "ray", fleet, {"kind": "ray", "actors": 2}, kill_switch=str(switch)),
                 tmp_path / "ray" / "run")
    assert on_ray["status"] == "ok", on_ray["error"]
    assert Path(str(switch) + ".claimed").read_text().isdigit()  # a worker really died
    # nothing was in flight when it died: every request reached the servers exactly once
    assert requests_served(fleet) == 60
    assert tables(tmp_path / "ray" / "run") == tables(tmp_path / "local" / "run")
    # and every one of them is accounted, those the dead worker received included
    assert table(tmp_path / "ray" / "run", "SELECT count(*) FROM llm_calls WHERE attempt > 0") == [(60,)]
    assert not list((tmp_path / "ray" / "run").glob("llm_calls.journal.*.jsonl"))  # the shards' journals are gone


def test_a_shard_must_name_an_input_of_its_stage(tmp_path, fleet):
    cfg = config(tmp_path, "a", fleet, {"kind": "local"})
    cfg["stages"]["answers_checked"]["shard"]["input"] = "answers"
    summary = run(cfg, tmp_path / "run")
    assert summary["status"] == "failed" and "stages.answers_checked.shard.input" in summary["error"]


def test_an_unknown_executor_key_is_a_config_error(tmp_path, fleet):
    summary = run(config(tmp_path, "a", fleet, {"kind": "local", "nodes": 8}), tmp_path / "run")
    assert summary["status"] == "failed" and "executor.nodes" in summary["error"]
