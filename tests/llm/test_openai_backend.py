"""The openai backend, through the real openai client, against the real loopback server and its faults."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket

import pytest

from engine.llm import Request, Retryable
from engine.llm.ledger import summarize
from engine.llm.openai_backend import parse_retry_after
from tests.llm.conftest import openai_config, prompts

RECOVERED = ["rate_limit", "server_error", "slow", "drop", "malformed", "empty_choices"]


@pytest.mark.parametrize("fault", RECOVERED)
def test_transient_fault_is_retried_and_answered(server, make, transport, fault):
    # the client's timeout only matters for the slow reply (the server's comes after 5 s): elsewhere a generous
    # one, so that a busy machine answering late is no extra attempt
    llm, ledger, _ = make(openai_config(server.base_url, transport=transport, timeout_s=1.0 if fault == "slow" else 30,
                                        max_retries=8))
    server.server.plan.append(fault)
    [response] = llm.complete(prompts(1))
    assert response.ok and response.text == "prompt number 0"
    assert ledger[0]["error"] and not ledger[0]["ok"] and ledger[-1]["ok"]
    if fault == "slow":  # a retry may time out as well on a busy machine: each attempt is a request and a row
        assert "timeout" in ledger[0]["error"] and server.server.stats()["requests"] == len(ledger)
        return
    assert server.server.stats()["requests"] == 2
    assert [(row["attempt"], row["ok"]) for row in ledger] == [(1, False), (2, True)]
    assert summarize(ledger)["retries"] == 1 and summarize(ledger)["failures"] == 0


def test_content_filter_is_retried_once_then_a_final_refusal(server, make, transport):
    llm, ledger, _ = make(openai_config(server.base_url, transport=transport))
    server.server.plan.extend(["content_filter", "content_filter"])
    [response] = llm.complete(prompts(1))
    assert not response.ok and response.text is None and response.reason == "refused"
    assert "content_filter" in response.error and response.finish_reason == "content_filter"
    assert server.server.stats()["requests"] == 2
    assert summarize(ledger)["failures"] == 1
    [again] = llm.complete(prompts(1))  # final: the next run does not ask again
    assert again.cached and again.reason == "refused" and server.server.stats()["requests"] == 2


def test_a_refusal_that_does_not_repeat_is_answered(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    server.server.plan.append("content_filter")
    [response] = llm.complete(prompts(1))
    assert response.ok and response.text == "prompt number 0"
    assert server.server.stats()["requests"] == 2


def test_a_cut_reply_is_truncated_never_whole(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    server.server.plan.append("length")
    [response] = llm.complete(prompts(1))
    assert not response.ok and response.text is None and response.reason == "truncated"
    assert response.finish_reason == "length" and "max_tokens" in response.error
    assert "prompt number 0".startswith(response.partial) and response.partial != "prompt number 0"


def test_a_cut_reply_asked_as_lines_keeps_its_whole_lines(make):
    llm, _, _ = make({"progress": False})
    lines = "\n".join(f"line {i} of the list" for i in range(6))
    ask = Request([{"role": "user", "content": lines}], task="generic.echo", max_tokens=13,
                  truncation="whole_lines")
    [response] = llm.complete([ask])
    assert response.ok and response.finish_reason == "length"
    assert response.text == "\n".join(f"line {i} of the list" for i in range(2))
    assert response.partial == "line 2 of"
    [strict] = llm.complete([dataclasses.replace(ask, truncation="reject")])
    assert strict.reason == "truncated" and strict.text is None


def test_persistent_fault_becomes_a_failure_with_its_error(server, make, transport):
    llm, ledger, _ = make(openai_config(server.base_url, transport=transport, max_retries=2))
    server.server.plan.extend(["server_error"] * 3)
    [response] = llm.complete(prompts(1))
    assert not response.ok and response.text is None
    assert "HTTP 500" in response.error and "3 attempts" in response.error
    assert [row["attempt"] for row in ledger] == [1, 2, 3]
    assert summarize(ledger) | {"cost_usd": 0} == summarize([]) | {
        "calls": 1,
        "cache_hits": 0,
        "retries": 2,
        "failures": 1,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0,
    }


def test_client_error_is_recorded_without_retry(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    [response] = llm.complete(prompts(1, task="generic.no_such_task"))
    assert not response.ok and "HTTP 400" in response.error and "no_such_task" in response.error
    assert server.server.stats()["requests"] == 1


def test_random_faults_every_request_answered_in_order(server, make, transport):
    server.server.fail_rate = 0.3
    server.server.faults = ("rate_limit", "server_error", "drop", "malformed", "empty_choices")
    llm, ledger, _ = make(openai_config(server.base_url, transport=transport, max_retries=8, max_in_flight=8))
    responses = llm.complete(prompts(60))
    assert [r.text for r in responses] == [f"prompt number {i}" for i in range(60)]
    summary = summarize(ledger)
    assert summary["calls"] == 60 and summary["failures"] == 0
    assert summary["retries"] == server.server.stats()["requests"] - 60 > 0


def test_logprobs_and_task_routing_over_http(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    question = "Which is a fruit?\nA) stone\nB) apple\nC) chair"
    requests = [
        Request(
            [{"role": "user", "content": question}],
            task="generic.choice",
            logprobs=True,
            top_logprobs=3,
            sample_index=i,
        )
        for i in range(8)
    ]
    responses = llm.complete(requests)
    for response in responses:
        assert response.ok and response.simulated
        letter = next(t for t in response.logprobs if t.token in "ABC")
        assert set(letter.top) == {"A", "B", "C"} and max(letter.top.values()) == letter.logprob
    assert len({r.text for r in responses}) > 1  # sample indices reach the sim handler as headers


def test_json_schema_is_sent_as_response_format(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    schema = {"title": "Topic reply", "type": "object", "properties": {"topic": {"type": "string"}}}
    [response] = llm.complete([Request([{"role": "user", "content": "cats"}], task="generic.json", json_schema=schema)])
    assert response.ok and "topic" in response.text


def test_repeated_sync_calls_in_one_process(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport, cache="off"))
    for _ in range(3):  # each call runs a new event loop; the HTTP client must follow it
        assert all(r.ok for r in llm.complete(prompts(4)))


def test_retry_after_header_forms():
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a date in the past
    assert parse_retry_after({}) is None


def test_retry_after_replaces_the_backoff(server, make):
    llm, _, _ = make(openai_config(server.base_url, backoff_s=100.0, backoff_max_s=100.0))
    assert llm._backoff(1, Retryable("HTTP 429", retry_after=0.01)) == 0.01
    assert 0 <= llm._backoff(3, Retryable("HTTP 500")) <= 100.0


def test_a_429_brings_its_retry_after_to_the_backoff(server, make, transport):
    llm, _, _ = make(openai_config(server.base_url, transport=transport))
    server.server.plan.append("rate_limit")

    async def once():
        async with llm.backend.session():
            return await llm.backend.call(prompts(1)[0])

    with pytest.raises(Retryable, match="HTTP 429") as raised:
        asyncio.run(once())
    assert raised.value.retry_after == 0.01  # the server fixture's Retry-After


def test_a_refused_connection_cost_nothing_and_a_dropped_one_may_have(server, make, transport):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    refused, refused_ledger, _ = make(openai_config(closed, transport=transport, max_retries=0))
    dropped, dropped_ledger, _ = make(openai_config(server.base_url, transport=transport, max_retries=0))
    server.server.plan.append("drop")
    assert not refused.complete(prompts(1))[0].ok and not dropped.complete(prompts(1))[0].ok
    assert [row["cost_known"] for row in refused_ledger] == [True]
    assert [row["cost_known"] for row in dropped_ledger] == [False]
    assert summarize(dropped_ledger)["unknown_cost"] == 1


def test_sim_ground_truth_comes_over_http_as_in_process(server, make, transport, tmp_path):
    """The loopback server sends what the sim knows of a reply beside it, so a run against it gets the same
    sim_truth rows as a run on the sim backend; a cut reply carries none."""
    requests = [Request([{"role": "user", "content": f"Premise: Answer in at most {n} words.\n"
                                                      f"Hypothesis: Answer in at most {n + k} words."}],
                        task="autoif.nli") for n in range(3, 9) for k in (0, 2)]
    over_http, _, http_truth = make(openai_config(server.base_url, transport=transport))
    in_process, _, sim_truth = make({"backend": "sim", "progress": False}, cache_dir=tmp_path / "sim")
    assert [r.text for r in over_http.complete(requests)] == [r.text for r in in_process.complete(requests)]
    assert len(http_truth) == len(requests)
    assert sorted(t["truth"] for t in http_truth) == sorted(t["truth"] for t in sim_truth)  # replies land in any order
    assert {t["key"] for t in http_truth}.isdisjoint({t["key"] for t in sim_truth})  # two backends, two keys
    assert all(set(json.loads(t["truth"])) == {"label", "correct"} for t in http_truth)
