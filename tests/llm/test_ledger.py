"""The ledger: one row per attempt, and a summary that adds up."""

from __future__ import annotations

import pytest

from engine.llm.ledger import summarize
from tests.llm.conftest import openai_config, prompts


def test_ledger_adds_up_to_the_summary(server, make):
    server.server.fail_rate = 0.4
    server.server.faults = ("rate_limit", "server_error", "content_filter")
    llm, ledger, _ = make(openai_config(server.base_url, max_retries=1))
    responses = llm.complete(prompts(40))
    rows_by_key: dict[str, list] = {}
    for row in ledger:
        rows_by_key.setdefault(row["key"], []).append(row)
    summary = summarize(ledger)
    assert summary["calls"] == len(responses) == 40
    assert summary["failures"] == sum(not r.ok for r in responses) > 0
    assert summary["retries"] == sum(len(rows) - 1 for rows in rows_by_key.values()) > 0
    assert summary["retries"] + summary["calls"] == server.server.stats()["requests"]
    assert summary["prompt_tokens"] == sum(r["prompt_tokens"] for r in ledger) > 0
    expected_cost = sum(r["prompt_tokens"] * 1.0 + r["completion_tokens"] * 2.0 for r in ledger) / 1e6
    assert summary["cost_usd"] == pytest.approx(expected_cost)
    for response in responses:
        assert response.ok == (response.text is not None) == (response.error is None)


def test_every_row_has_the_llm_calls_columns(make):
    llm, ledger, _ = make({"progress": False})
    llm.complete(prompts(2))
    llm.complete(prompts(2))
    columns = {
        "stage",
        "role",
        "task",
        "backend",
        "model",
        "key",
        "sample_index",
        "attempt",
        "cache_hit",
        "ok",
        "reason",
        "cost_known",
        "retried_failure",
        "error",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "latency_s",
        "cost_usd",
        "ts",
    }
    assert all(set(row) == columns for row in ledger)
    assert [(r["attempt"], r["cache_hit"]) for r in ledger] == [(1, False)] * 2 + [(0, True)] * 2
    assert {r["stage"] for r in ledger} == {"test_stage"} and {r["role"] for r in ledger} == {"teacher"}


def test_cache_hits_cost_nothing(server, make):
    make(openai_config(server.base_url))[0].complete(prompts(3))
    llm, ledger, _ = make(openai_config(server.base_url))
    llm.complete(prompts(3))
    assert all(r["cost_usd"] == 0 and r["cache_hit"] for r in ledger)


def test_summary_of_nothing():
    assert summarize([]) == {
        "calls": 0,
        "cache_hits": 0,
        "retries": 0,
        "failures": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0,
        "unknown_cost": 0,
        "in_flight_at_kill": 0,
        "retried_failures": 0,
        "healed": 0,
    }
