"""Processes sharing a response cache pay for each request once: a request is claimed before it is sent, and a
claimed one is awaited from the cache; the claims of a process that died lapse."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from engine.llm.cache import LEASE_STALE_S, ResponseCache, lease_owner
from engine.testing.fake_openai import serve_in_process, stats
from tests.conftest import table
from tests.engine.test_resume import start_run

F = "tests.engine.fixture_stages"
N = 80


def test_a_claimed_key_is_not_claimed_again_until_its_owner_releases_it_or_dies(tmp_path):
    a, b = ResponseCache(tmp_path / "c.sqlite", "readwrite"), ResponseCache(tmp_path / "c.sqlite", "readwrite")
    # owners elsewhere: only their heartbeat tells whether they live
    assert a.claim(["k1", "k2"], "a", now=100.0) == {"k1", "k2"}
    assert b.claim(["k1", "k2", "k3"], "b", now=101.0) == {"k3"}
    a.release(["k1"], "a")
    assert b.claim(["k1", "k2"], "b", now=102.0) == {"k1"}
    a.heartbeat("a", now=100.0 + LEASE_STALE_S - 1)  # alive: its claim holds
    assert b.claim(["k2"], "b", now=100.0 + LEASE_STALE_S) == set()
    assert b.claim(["k2"], "b", now=100.0 + 2 * LEASE_STALE_S) == {"k2"}  # silent too long: taken over


def test_the_claims_of_a_process_of_this_host_that_died_lapse_at_once(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", "readwrite")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache.claim(["k"], f"{socket.gethostname()}:{dead.pid}:1")
    assert cache.claim(["k"], lease_owner(cache)) == {"k"}
    assert cache.claim(["k"], f"{socket.gethostname()}:{os.getpid()}:2") == set()  # a live process keeps its own


@pytest.mark.parametrize("transport", ["aiohttp", "sdk"])
def test_two_runs_started_together_on_one_cache_pay_each_request_once(make_config, tmp_path, transport):
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(N)))
    with serve_in_process("--latency-ms", "50") as base_url:
        cfg = make_config(
            {"numbers": {"source": str(numbers)},
             "echoed": {"fn": f"{F}:echoed", "inputs": ["numbers"], "llm": ["teacher"]}},
            llm={"backend": "openai", "model": "fake-model", "base_url": base_url, "api_key": "test",
                 "max_in_flight": 8, "progress": False, "transport": transport},
            roles={"teacher": {}}, store={"reuse": False})  # no stage store: both runs compute the stage
        runs = [start_run(cfg, tmp_path / f"run{i}") for i in range(2)]
        assert [r.wait(timeout=120) for r in runs] == [0, 0]
        assert stats(base_url)["answered"] == N
    sent = [table(tmp_path / f"run{i}", "select count(*) from llm_calls where attempt > 0")[0][0] for i in range(2)]
    assert sum(sent) == N  # each request sent by one run, answered to the other from the cache
    for i in range(2):
        assert table(tmp_path / f"run{i}", "select count(*) from echoed") == [(N,)]
