"""A rerun heals: a stage that lost requests to an outage is stored as incomplete, and the next run sends only
the failed requests again, recomputes what depends on them, and ends with the tables a fault-free run makes.
A plainly down endpoint stops the run early, naming it. The account covers every process of the run directory."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from engine.report import funnel_table
from engine.runner import run
from engine.testing.fake_openai import serve_in_process, serve_in_thread, stats
from tests.conftest import table
from tests.engine.test_resume import start_run

F = "tests.engine.fixture_stages"
N = 60
TRANSIENT = ("rate_limit", "server_error", "drop", "malformed", "empty_choices")
TRANSPORTS = ("aiohttp", "sdk")  # llm.transport


def echo_config(make_config, tmp_path, base_url: str, **llm) -> dict:
    """numbers -> echoed (one model call a row) -> echo_summary (SQL over the replies)."""
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(N)))
    summary_sql = tmp_path / "echo_summary.sql"
    summary_sql.write_text("select count(*) as n, string_agg(reply, '|' order by reply) as replies, "
                           "list(id order by id) as parent_ids from echoed")
    return make_config(
        {"numbers": {"source": str(numbers)},
         "echoed": {"fn": f"{F}:echoed", "inputs": ["numbers"], "llm": ["teacher"]},
         "echo_summary": {"sql": str(summary_sql), "inputs": ["echoed"]}},
        # each test server is a new port: one endpoint_id says they are one endpoint (one cache), as after a restart
        llm={"backend": "openai", "model": "fake-model", "base_url": base_url, "api_key": "test", "endpoint_id": "fake",
             "max_in_flight": 8, "timeout_s": 60, "progress": False, "max_retries": 0, "backoff_s": 0.01,
             "prices": {"fake-model": {"input": 1.0, "output": 2.0}}, **llm},
        roles={"teacher": {}},
    )


def final_tables(run_dir) -> tuple:
    return (table(run_dir, "select n, reply from echoed join numbers on list_contains(echoed.parent_ids, numbers.id) "
                           "order by n"),
            table(run_dir, "select n, replies from echo_summary"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_rerun_after_an_outage_sends_only_the_failed_requests_and_ends_as_a_clean_run(make_config, tmp_path,
                                                                                        transport):
    with serve_in_thread() as clean:
        own_cache = {"cache_dir": str(tmp_path / "ref_cache")}
        reference = run({**echo_config(make_config, tmp_path, clean.base_url), **own_cache}, tmp_path / "ref")
    assert reference["status"] == "ok"

    with serve_in_thread(fail_rate=0.3, faults=TRANSIENT, seed=3) as faulty:
        cfg = echo_config(make_config, tmp_path, faulty.base_url, transport=transport)
        first = run(cfg, tmp_path / "first")
    assert first["status"] == "ok", first["error"]
    failed = first["stages"]["echoed"]["failed_calls"]
    assert 0 < failed < N and first["stages"]["echoed"]["rejected"] == {"llm_error": failed}

    with serve_in_thread() as healthy:
        second = run({**cfg, "llm": {**cfg["llm"], "base_url": healthy.base_url}}, tmp_path / "second")
        sent = healthy.server.stats()["requests"]
    assert second["status"] == "ok", second["error"]
    # nothing else was paid: the answered requests came from the cache, the failed ones were sent once each
    assert sent == failed
    echoed = second["stages"]["echoed"]
    assert not echoed["reused"] and echoed["retried_calls"] == failed == echoed["healed_calls"]
    assert second["llm"]["healed"] == failed and "failed_calls" not in second["stages"]["echo_summary"]
    assert final_tables(tmp_path / "second") == final_tables(tmp_path / "ref")
    assert f"{failed} failed" in funnel_table(first) and "rerun the same command" in funnel_table(first)
    assert f"healed: {failed} of {failed}" in funnel_table(second)

    with serve_in_thread() as idle:  # healed: a third run reuses everything and sends nothing
        third = run({**cfg, "llm": {**cfg["llm"], "base_url": idle.base_url}}, tmp_path / "second")
        assert idle.server.stats()["requests"] == 0
    assert all(s["reused"] for s in third["stages"].values())


def test_a_failure_in_the_same_run_directory_is_recomputed_not_reused(make_config, tmp_path):
    with serve_in_thread(fail_rate=0.3, faults=("server_error",), seed=1) as server:
        cfg = echo_config(make_config, tmp_path, server.base_url)
        first = run(cfg, tmp_path / "run")
        server.server.fail_rate = 0.0
        second = run(cfg, tmp_path / "run")
    assert first["stages"]["echoed"]["failed_calls"] > 0
    assert not second["stages"]["echoed"]["reused"] and not second["stages"]["echo_summary"]["reused"]
    assert table(tmp_path / "run", "select count(*) from echoed") == [(N,)]
    assert second["stages"]["echoed"]["rejected"] == {} and second["stages"]["echoed"]["healed_calls"] > 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_endpoint_that_is_down_stops_the_run_within_n_requests_naming_it(make_config, tmp_path, transport):
    with serve_in_thread(down_for_s=3600) as down:
        cfg = echo_config(make_config, tmp_path, down.base_url, stop_after_failures=5, transport=transport)
        summary = run(cfg, tmp_path / "run")
        seen = down.server.stats()["requests"]
    assert summary["status"] == "failed"
    assert "first 5 requests all failed" in summary["error"] and down.base_url in summary["error"]
    assert "llm.base_url" in summary["error"] and "fake-model" in summary["error"] and "HTTP 503" in summary["error"]
    assert seen < 5 + 8  # at most the ones in flight when the fifth failed
    assert "echo_summary" not in summary["stages"]


def test_after_the_endpoint_comes_up_the_same_command_completes_and_pays_each_request_once(make_config, tmp_path):
    # down until the test says otherwise, not for a while: a busy machine may take any time to reach its requests
    with serve_in_thread(down_for_s=float("inf")) as server:
        cfg = echo_config(make_config, tmp_path, server.base_url, stop_after_failures=5)
        assert run(cfg, tmp_path / "run")["status"] == "failed"
        server.server.down_for_s = 0.0  # up
        summary = run(cfg, tmp_path / "run")
        answered = server.server.stats()["answered"]
    assert summary["status"] == "ok", summary["error"]
    assert answered == N
    assert table(tmp_path / "run", "select count(*) from llm_calls where ok and attempt > 0") == [(N,)]


def test_a_stage_failing_past_the_failure_rate_stops_the_run(make_config, tmp_path):
    with serve_in_thread(fail_rate=0.8, faults=("server_error",), seed=2) as server:
        cfg = echo_config(make_config, tmp_path, server.base_url, stop_after_failures=0, max_failure_rate=0.5)
        summary = run(cfg, tmp_path / "run")
    assert summary["status"] == "failed"
    assert "llm.max_failure_rate=0.5" in summary["error"] and "'echoed'" in summary["error"]


def test_after_three_kills_the_account_is_the_sum_of_llm_calls_and_what_the_server_answered(make_config, tmp_path):
    run_dir = tmp_path / "run"
    with serve_in_process("--latency-ms", "30") as base_url:
        cfg = echo_config(make_config, tmp_path, base_url, max_in_flight=4)
        for k in range(1, 4):  # killed at a quarter, a half and three quarters of the requests
            proc = start_run(cfg, run_dir)
            deadline = time.monotonic() + 60
            while stats(base_url)["answered"] < k * N // 4:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        assert start_run(cfg, run_dir).wait(timeout=120) == 0
        server = stats(base_url)

    summary = json.loads((run_dir / "summary.json").read_text())["llm"]
    [(cost, tokens, in_flight)] = table(run_dir, "select sum(cost_usd), sum(prompt_tokens + completion_tokens), "
                                                 "count(*) filter (error like 'sent, outcome unknown%') "
                                                 "from llm_calls")
    assert summary["cost_usd"] == round(cost, 6)
    assert summary["in_flight_at_kill"] == in_flight and in_flight <= 3 * 4
    # what the server answered but no process lived to record is exactly the attempts listed as in flight
    assert 0 <= server["answered"] - table(run_dir, "select count(*) from llm_calls where ok and attempt > 0")[0][0] \
        <= in_flight
    assert 0 <= server["billed_tokens"] - tokens
    assert table(run_dir, "select count(*), count(distinct key) from llm_calls where ok") == [(N, N)]
