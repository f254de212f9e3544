"""A fleet of endpoints (`llm.base_url` as a list): two real loopback servers, each in its own process."""

from __future__ import annotations

import socket
from contextlib import ExitStack

import pytest

from engine.llm import make_llm
from engine.llm.config import LLMConfig, load_config
from engine.llm.fleet import Fleet
from engine.llm.types import LLMConfigError
from engine.testing.fake_openai import plan_faults, serve_in_process, stats
from tests.llm.conftest import openai_config, prompts


@pytest.fixture(scope="module")
def two_servers():
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_process("--latency-ms", "30")) for _ in range(2)]


@pytest.fixture
def servers(two_servers):
    for url in two_servers:
        stats(url, reset=True)
    return two_servers


def fleet_llm(urls, cache_dir, **overrides):
    ledger: list = []
    llm = make_llm(openai_config(urls, **overrides), stage="s", role="r", cache_dir=cache_dir, ledger=ledger, truth=[])
    return llm, ledger


def closed_port_url() -> str:
    """An address where nothing listens: a dead endpoint."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_requests_spread_over_the_fleet_within_each_endpoints_limit(servers, tmp_path):
    llm, _ = fleet_llm(servers, tmp_path, max_in_flight=4, cache="off")
    responses = llm.complete(prompts(80))
    assert all(r.ok for r in responses)
    seen = [stats(url) for url in servers]
    assert sum(s["requests"] for s in seen) == 80
    assert all(s["requests"] >= 25 for s in seen)  # fewest-outstanding keeps both busy
    assert all(s["max_in_flight"] == 4 for s in seen)  # the limit holds per endpoint, and is used


def test_a_dead_endpoint_is_set_aside_and_the_batch_completes_on_the_others(servers, tmp_path):
    llm, ledger = fleet_llm([closed_port_url(), servers[0]], tmp_path, max_in_flight=4, cache="off",
                            backoff_s=1.0, backoff_max_s=5.0)
    responses = llm.complete(prompts(40))
    assert all(r.ok for r in responses)
    failed = [row for row in ledger if not row["ok"]]
    # only the requests sent before the first refusal came back went to the dead endpoint
    assert 1 <= len(failed) <= 4
    assert stats(servers[0])["requests"] == 40


def test_an_endpoint_that_failed_gets_requests_again_after_its_pause(servers, tmp_path):
    plan_faults(servers[0], ["server_error"])
    llm, _ = fleet_llm(servers, tmp_path, max_in_flight=1, cache="off", backoff_s=0.05, backoff_max_s=0.05)
    first = llm.complete(prompts(1))  # one request: the first endpoint fails it, the second answers
    assert first[0].ok
    assert [stats(url)["requests"] for url in servers] == [1, 1]
    llm.complete(prompts(30, task="generic.echo", sample_index=1))
    assert stats(servers[0])["requests"] > 5


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_endpoint_is_paused_longer_each_time_in_a_row_and_cleared_by_a_success(tmp_path):
    cfg = LLMConfig(backend="openai", model="m", api_key="k", base_url=["http://a/v1", "http://b/v1"],
                    backoff_s=1.0, backoff_max_s=3.0)
    clock = Clock()
    fleet = Fleet(cfg, tmp_path, clock=clock)
    a, b = fleet.endpoints
    for pause in (1.0, 2.0, 3.0):  # doubling, capped at backoff_max_s
        fleet._set_aside(a, None)
        assert a.set_aside_until == clock.now + pause
        assert fleet.pick() is b
    clock.now += 3.0
    assert fleet.pick() is a  # back in service
    fleet._set_aside(b, 10.0)  # a Retry-After sets the pause
    assert b.set_aside_until == clock.now + 10.0


def test_when_every_endpoint_is_set_aside_the_first_to_return_is_picked(tmp_path):
    cfg = LLMConfig(backend="openai", model="m", api_key="k", base_url=["http://a/v1", "http://b/v1"])
    fleet = Fleet(cfg, tmp_path, clock=Clock())
    a, b = fleet.endpoints
    fleet._set_aside(a, 5.0)
    fleet._set_aside(b, 2.0)
    assert fleet.pick() is b
    assert not fleet._in_service()


def test_a_fleet_shares_its_cache_with_one_endpoint_only_when_both_declare_one_identity(servers, tmp_path):
    llm, _ = fleet_llm(servers, tmp_path)
    llm.complete(prompts(10))
    single, _ = fleet_llm(servers[1], tmp_path)
    assert not any(r.cached for r in single.complete(prompts(10)))  # another endpoint may serve another checkpoint
    assert sum(stats(url)["requests"] for url in servers) == 20
    fleet_llm(servers, tmp_path, endpoint_id="vllm-llama")[0].complete(prompts(10))
    declared, ledger = fleet_llm(servers[1], tmp_path, endpoint_id="vllm-llama")
    assert all(r.cached for r in declared.complete(prompts(10)))
    assert all(row["cache_hit"] for row in ledger)
    assert sum(stats(url)["requests"] for url in servers) == 30


@pytest.mark.parametrize("base_url", [[], ["http://a/v1", "http://a/v1"]])
def test_a_fleet_needs_distinct_endpoints(base_url):
    with pytest.raises(LLMConfigError, match="base_url"):
        load_config(openai_config(base_url))


def test_a_failure_names_the_endpoint_it_came_from(tmp_path):
    dead = closed_port_url()
    llm, ledger = fleet_llm([dead], tmp_path, cache="off", max_retries=0)
    (response,) = llm.complete(prompts(1))
    assert not response.ok and dead in response.error
