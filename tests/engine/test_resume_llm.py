"""A run killed in the middle of a model-calling stage resumes from its cached responses: no answered
request is paid for twice."""

from __future__ import annotations

import json
import os
import signal
import time

from engine.testing.fake_openai import serve_in_process, stats
from tests.conftest import table
from tests.engine.test_resume import start_run

F = "tests.engine.fixture_stages"
N = 120
IN_FLIGHT = 4


def echo_config(make_config, tmp_path, base_url: str) -> dict:
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(N)))
    return make_config(
        {"numbers": {"source": str(numbers)},
         "echoed": {"fn": f"{F}:echoed", "inputs": ["numbers"], "llm": ["teacher"]}},
        llm={"backend": "openai", "model": "fake-model", "base_url": base_url, "api_key": "test",
             "max_in_flight": IN_FLIGHT, "timeout_s": 10, "progress": False,
             "prices": {"fake-model": {"input": 1.0, "output": 2.0}}},
        roles={"teacher": {}},
    )


def kill_once_a_third_is_answered(cfg: dict, run_dir, base_url: str) -> None:
    killed = start_run(cfg, run_dir)
    deadline = time.monotonic() + 60
    while stats(base_url)["requests"] < N // 3:
        assert killed.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()


def test_sigkill_mid_llm_stage_pays_each_answered_request_once(make_config, tmp_path):
    with serve_in_process("--latency-ms", "40") as base_url:
        cfg = echo_config(make_config, tmp_path, base_url)
        kill_once_a_third_is_answered(cfg, tmp_path / "killed", base_url)
        answered_before = stats(base_url)["requests"]
        assert answered_before < N

        resumed = start_run(cfg, tmp_path / "resumed")
        assert resumed.wait(timeout=120) == 0
        total = stats(base_url)["requests"]

    # only requests in flight at the kill (at most IN_FLIGHT) may have reached the server twice
    assert N <= total <= N + IN_FLIGHT
    assert table(tmp_path / "resumed", "select count(*) from echoed") == [(N,)]
    hits = table(tmp_path / "resumed", "select count(*) from llm_calls where cache_hit")[0][0]
    assert hits >= answered_before - IN_FLIGHT
    summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert summary["llm"]["cache_hits"] == hits


def test_the_calls_a_killed_run_paid_for_are_in_llm_calls_after_a_rerun_in_its_directory(make_config, tmp_path):
    run_dir = tmp_path / "run"
    with serve_in_process("--latency-ms", "40") as base_url:
        cfg = echo_config(make_config, tmp_path, base_url)
        kill_once_a_third_is_answered(cfg, run_dir, base_url)
        resumed = start_run(cfg, run_dir)
        assert resumed.wait(timeout=120) == 0
        served = stats(base_url)["requests"]

    sent = table(run_dir, "select count(*) from llm_calls where attempt > 0")[0][0]
    # every request the server saw is accounted: those in flight at the kill as "outcome unknown", then again
    assert sent == served
    in_flight = table(run_dir, "select count(*) from llm_calls where error like 'sent, outcome unknown%'")[0][0]
    assert in_flight <= IN_FLIGHT
    assert table(run_dir, "select count(distinct key) from llm_calls where ok") == [(N,)]
    assert table(run_dir, "select count(*) from llm_calls where ok") == [(N,)]  # no answer counted twice
    summary = json.loads((run_dir / "summary.json").read_text())
    recovered = summary["llm"]["recovered_from_killed_run"]
    assert recovered >= N // 3 - IN_FLIGHT
    # the summary is the whole directory's account, not the last process's
    assert summary["llm"]["calls"] == sent and summary["llm"]["cache_hits"] == 0
    assert summary["llm"]["in_flight_at_kill"] == in_flight == summary["llm"]["unknown_cost"]
    assert table(run_dir, "select sum(cost_usd) > 0 from llm_calls where attempt > 0") == [(True,)]
    assert (run_dir / "llm_calls.journal.jsonl").read_text() == ""
