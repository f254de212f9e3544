"""llm.mode: batch through the real openai client against the loopback server's Files and Batches APIs: the same
answers as online calls at the batch price, split by the limits, failed lines healed by the next call, expired
and cancelled batches resubmitted, and a killed process's batch re-attached instead of paid again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import openai
import pytest

from engine.config import PROJECT_ROOT
from engine.llm.batch import BatchJournal
from engine.llm.config import load_config
from engine.llm.ledger import summarize
from engine.llm.types import LLMConfigError
from engine.testing.fake_openai import serve_in_process, serve_in_thread, stats
from tests.llm.conftest import openai_config, prompts


def batch_config(base_url: str, **overrides) -> dict:
    batch = {"poll_s": 0.02, **overrides.pop("batch", {})}
    return openai_config(base_url, mode="batch", batch=batch, **overrides)


def test_a_batch_answers_as_online_calls_at_the_batch_price(make, tmp_path):
    with serve_in_thread(batch_delay_s=0.1) as server:
        online, online_ledger, _ = make(openai_config(server.base_url), cache_dir=tmp_path / "online")
        batched, batch_ledger, truth = make(batch_config(server.base_url, batch={"max_requests": 7}))
        expected = online.complete(prompts(20))
        answers = batched.complete(prompts(20))
        assert server.server.stats()["batches"] == 3  # 7 + 7 + 6 lines
    assert [a.text for a in answers] == [e.text for e in expected] and all(a.ok for a in answers)
    assert len(truth) == 20  # the loopback server's ground truth travels in batch lines too
    assert [r["attempt"] for r in batch_ledger] == [1] * 20
    online_cost, batch_cost = summarize(online_ledger)["cost_usd"], summarize(batch_ledger)["cost_usd"]
    assert online_cost > 0 and batch_cost == pytest.approx(online_cost / 2)


def test_a_batch_entry_in_prices_is_the_price_paid(server, make):
    prices = {"fake-model": {"input": 1.0, "output": 2.0, "batch": {"input": 0.25, "output": 0.25}}}
    llm, ledger, _ = make(batch_config(server.base_url, prices=prices))
    llm.complete(prompts(3))
    assert [r["cost_usd"] for r in ledger] == [pytest.approx((r["prompt_tokens"] + r["completion_tokens"]) * 0.25 / 1e6)
                                               for r in ledger]


def test_answered_requests_come_from_the_cache_and_only_new_ones_are_submitted(server, make):
    llm, _, _ = make(batch_config(server.base_url))
    llm.complete(prompts(5))
    again = llm.complete(prompts(8))
    assert [r.cached for r in again] == [True] * 5 + [False] * 3
    assert server.server.stats()["batches"] == 2 and server.server.stats()["batch_lines"] == 8


def test_input_files_respect_the_bytes_limit(server, make):
    llm, _, _ = make(batch_config(server.base_url, batch={"max_bytes": 1_000}))
    llm.complete(prompts(12))
    api = server.server.batch_api
    sizes = [len(api.files[b.input_file_id][2]) for b in api.batches.values()]
    assert len(sizes) > 1 and max(sizes) <= 1_000 and sum(len(b.lines) for b in api.batches.values()) == 12


def test_failed_lines_are_failed_responses_and_the_next_call_submits_only_them(server, make):
    llm, ledger, _ = make(batch_config(server.base_url))
    server.server.plan.extend([None, "server_error", None, "rate_limit", "drop", None])
    first = llm.complete(prompts(6))
    assert [r.ok for r in first] == [True, False, True, False, False, True]
    assert all(r.reason == "llm_error" and "batch line failed: HTTP" in r.error for r in first if not r.ok)
    assert summarize(ledger)["failures"] == 3
    ledger.clear()
    second = llm.complete(prompts(6))
    assert all(r.ok for r in second) and server.server.stats()["batch_lines"] == 6 + 3
    assert sorted(r["key"] for r in ledger if r["attempt"] == 1) == sorted(r.key for r in first if not r.ok)
    assert all(r["retried_failure"] for r in ledger if r["attempt"] == 1)


def test_a_refusal_is_asked_once_more_in_a_second_batch_and_a_cut_reply_is_truncated(server, make):
    llm, _, _ = make(batch_config(server.base_url))
    server.server.plan.extend(["content_filter", "length", None])
    refused_once, cut, _ = llm.complete(prompts(3))
    assert refused_once.ok and refused_once.text == "prompt number 0"
    assert cut.reason == "truncated" and cut.text is None
    assert server.server.stats()["batches"] == 2 and server.server.stats()["batch_lines"] == 4


def _end_when_held(server, end) -> threading.Thread:
    """A thread that waits until the first batch holds its answered lines, then ends it with `end(batch_id)` and
    lets later batches run to the end."""
    api = server.server.batch_api

    def watch() -> None:
        while not (api.batches and len(api.batches["batch_1"].answered) == api.hold_lines):
            time.sleep(0.01)
        end("batch_1")
        api.hold_lines = None

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("how", ["expired", "cancelled"])
def test_an_expired_or_cancelled_batch_is_reported_and_its_unanswered_requests_are_resubmitted(make, how, caplog):
    with serve_in_thread(batch_delay_s=0.0) as server:
        server.server.batch_api.hold_lines = 4
        client = openai.OpenAI(base_url=server.base_url, api_key="test")
        if how == "expired":
            def end(batch_id):  # the server's test hook: the completion window ran out now
                root = server.base_url.removesuffix("/v1")
                urllib.request.urlopen(urllib.request.Request(f"{root}/batches/{batch_id}/expire", method="POST"))
        else:
            def end(batch_id):
                client.batches.cancel(batch_id)  # as someone cancelling it on the provider's dashboard
        llm, ledger, _ = make(batch_config(server.base_url))
        watcher = _end_when_held(server, end)
        answers = llm.complete(prompts(10))
        watcher.join(10)
        api = server.server.batch_api
        assert [b.status for b in api.batches.values()] == [how, "completed"]
        assert len(api.batches["batch_2"].lines) == 6 and server.server.stats()["answered"] == 10
    assert [a.text for a in answers] == [f"prompt number {i}" for i in range(10)]
    assert f"batch batch_1 {how} with 4 of its 10 requests answered; 6 are submitted again" in caplog.text
    assert sum(1 for r in ledger if not r["ok"] and f"{how} before this request ran" in r["error"]) == 6


def test_a_batch_that_fails_validation_fails_its_requests_with_the_reason(server, make, monkeypatch):
    llm, _, _ = make(batch_config(server.base_url, max_retries=0))
    line = llm.backend.batch_line
    monkeypatch.setattr(llm.backend, "batch_line", lambda r, k: {**line(r, k), "url": "/v1/embeddings"})
    answers = llm.complete(prompts(2))
    assert all(a.reason == "llm_error" and "batch_1 failed invalid_url" in a.error for a in answers)


def test_batch_mode_needs_the_openai_backend_and_one_endpoint():
    with pytest.raises(LLMConfigError, match="mode: batch needs backend: openai with one base_url"):
        load_config({"backend": "sim", "mode": "batch"})
    with pytest.raises(LLMConfigError, match="found a fleet"):
        load_config({"backend": "openai", "model": "m", "base_url": ["http://a/v1", "http://b/v1"], "mode": "batch"})


# ---------------------------------------------------------------------------------------------- resuming


def test_a_batch_created_by_a_run_killed_before_journaling_its_id_is_found_and_awaited(server, make, tmp_path):
    llm, _, _ = make(batch_config(server.base_url))
    requests = [llm._resolve(r) for r in prompts(4)]
    keys = [llm._key(r) for r in requests]
    body = "".join(json.dumps(llm.backend.batch_line(r, k)) + "\n" for r, k in zip(requests, keys, strict=True))
    client = openai.OpenAI(base_url=server.base_url, api_key="test")
    file = client.files.create(file=("killed.jsonl", body.encode()), purpose="batch")
    orphan = client.files.create(file=("never_a_batch.jsonl", body.encode()), purpose="batch")
    journal = BatchJournal(tmp_path / "cache" / "llm_batches.sqlite")
    journal.uploaded(orphan.id, server.base_url, keys[:1])  # killed before creating its batch: sent afresh
    journal.uploaded(file.id, server.base_url, keys)  # killed after creating the batch, before journaling its id
    client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    answers = llm.complete(prompts(4))
    assert [a.text for a in answers] == [f"prompt number {i}" for i in range(4)]
    assert server.server.stats()["batches"] == 1 and server.server.stats()["answered"] == 4
    assert journal.open_for(keys) == []


KILLABLE = """
import json, sys
from engine.llm import make_llm
from tests.llm.conftest import openai_config, prompts
cfg, cache_dir = json.loads(sys.argv[1]), sys.argv[2]
llm = make_llm(cfg, stage="test_stage", role="teacher", cache_dir=cache_dir, ledger=[], truth=[])
print(json.dumps([r.text for r in llm.complete(prompts(30))]))
"""


def test_a_run_killed_while_its_batch_runs_reattaches_on_rerun_and_pays_once(tmp_path):
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with serve_in_process("--batch-delay-s", "3") as base_url:
        cfg = json.dumps(batch_config(base_url, batch={"poll_s": 0.05}))
        killed = subprocess.Popen([sys.executable, "-c", KILLABLE, cfg, str(cache_dir)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while stats(base_url)["batches"] == 0:
            assert killed.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert stats(base_url)["answered"] < 30  # killed while its batch was still being answered
        rerun = subprocess.run([sys.executable, "-c", KILLABLE, cfg, str(cache_dir)], env=env, capture_output=True,
                               text=True, timeout=120, check=True)
        after = stats(base_url)
    assert json.loads(rerun.stdout) == [f"prompt number {i}" for i in range(30)]
    assert "re-attached to batch batch_1 (30 requests)" in rerun.stderr
    assert after["batches"] == 1 and after["batch_lines"] == 30 and after["answered"] == 30
