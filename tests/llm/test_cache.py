"""The response cache: no answered request is paid twice, across runs and after a killed run."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from engine.llm.cache import ResponseCache
from engine.llm.cache_writes import TurnWrites
from engine.llm.ledger import summarize
from engine.llm.types import Response
from tests.llm.conftest import openai_config, prompts


def test_rerun_is_answered_from_the_cache_without_reaching_the_server(server, make):
    first, _, _ = make(openai_config(server.base_url))
    answered = first.complete(prompts(20))
    server.server.reset()
    again, ledger, _ = make(openai_config(server.base_url))
    cached = again.complete(prompts(20))
    assert server.server.stats()["requests"] == 0
    assert [r.text for r in cached] == [r.text for r in answered]
    assert all(r.cached for r in cached) and not any(r.cached for r in answered)
    assert summarize(ledger) == summarize([]) | {
        "calls": 20,
        "cache_hits": 20,
        "retries": 0,
        "failures": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
    }


def test_cache_key_ignores_transport_settings(server, make):
    make(openai_config(server.base_url, max_in_flight=2, timeout_s=5, transport="aiohttp"))[0].complete(prompts(3))
    server.server.reset()
    other, _, _ = make(openai_config(server.base_url, max_in_flight=7, timeout_s=9, max_retries=0, transport="sdk"))
    assert all(r.cached for r in other.complete(prompts(3)))
    assert server.server.stats()["requests"] == 0


def test_sample_indices_are_distinct_entries(server, make):
    llm, _, _ = make(openai_config(server.base_url))
    samples = [prompts(1, sample_index=i)[0] for i in range(4)]
    responses = llm.complete(samples)
    assert len({r.key for r in responses}) == 4
    assert server.server.stats()["requests"] == 4
    assert all(r.cached for r in llm.complete(samples))


def test_identical_requests_in_one_batch_are_sent_once(server, make):
    llm, ledger, _ = make(openai_config(server.base_url))
    responses = llm.complete(prompts(1) * 3)
    assert server.server.stats()["requests"] == 1
    assert [r.cached for r in responses] == [False, True, True]
    assert summarize(ledger)["calls"] == 3 and summarize(ledger)["cache_hits"] == 2


def test_failures_are_not_cached(server, make):
    llm, _, _ = make(openai_config(server.base_url, max_retries=0))
    server.server.plan.append("server_error")
    assert [r.reason for r in llm.complete(prompts(1))] == ["llm_error"]
    assert [r.ok for r in llm.complete(prompts(1))] == [True]
    assert server.server.stats()["requests"] == 2


def test_readonly_reads_but_never_writes(server, make):
    make(openai_config(server.base_url))[0].complete(prompts(2))
    readonly, _, _ = make(openai_config(server.base_url, cache="readonly"))
    responses = readonly.complete(prompts(4))
    assert [r.cached for r in responses] == [True, True, False, False]
    assert [r.cached for r in readonly.complete(prompts(4))] == [True, True, False, False]


def test_off_neither_reads_nor_writes(server, make):
    make(openai_config(server.base_url))[0].complete(prompts(2))
    server.server.reset()
    off, _, _ = make(openai_config(server.base_url, cache="off"))
    assert not any(r.cached for r in off.complete(prompts(2)))
    assert server.server.stats()["requests"] == 2


def test_a_killed_batch_pays_again_only_for_unanswered_requests(server, make):
    server.server.latency_s = 0.02
    llm, first_ledger, _ = make(openai_config(server.base_url, max_in_flight=2))

    async def run_until_some_answered():
        task = asyncio.create_task(llm.acomplete(prompts(30)))
        while sum(row["ok"] for row in first_ledger) < 6:
            await asyncio.sleep(0.005)
        server.server.latency_s = 5.0  # what is sent from now on is surely in flight when the run dies
        await asyncio.sleep(0.5)
        while server.server.stats()["in_flight"] == 0:
            await asyncio.sleep(0.01)
        task.cancel()  # the run dies mid-stage
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run_until_some_answered())
    paid = {row["key"] for row in first_ledger if row["ok"]}
    server.server.reset()
    server.server.latency_s = 0.02
    resumed, ledger, _ = make(openai_config(server.base_url, max_in_flight=2))
    responses = resumed.complete(prompts(30))
    assert all(r.ok for r in responses)
    assert server.server.stats()["requests"] == 30 - len(paid)
    assert {row["key"] for row in ledger if row["attempt"] > 0}.isdisjoint(paid)
    cancelled = [row for row in first_ledger if row["error"] == "cancelled while in flight"]
    assert cancelled  # attempts cut short are in the ledger too: the endpoint may have billed them


def test_answers_reach_the_cache_file_while_the_batch_still_runs(server, make, tmp_path):
    server.server.latency_s = 0.02
    llm, ledger, _ = make(openai_config(server.base_url, max_in_flight=2))

    def rows_on_disk() -> int:
        with sqlite3.connect(tmp_path / "cache" / "llm_responses.sqlite") as db:
            return db.execute("SELECT count(*) FROM responses").fetchone()[0]

    async def watch_the_file() -> tuple[int, bool]:
        task = asyncio.create_task(llm.acomplete(prompts(40)))
        while sum(row["ok"] for row in ledger) < 6:
            await asyncio.sleep(0.005)
        for _ in range(200):  # the writer thread commits within moments; give it up to a second or two
            if (stored := rows_on_disk()) >= 6:
                break
            await asyncio.sleep(0.01)
        still_running = not task.done()
        await task
        return stored, still_running

    stored, still_running = asyncio.run(watch_the_file())
    assert stored >= 6 and still_running  # a process killed now would not pay again for these
    assert rows_on_disk() == 40


def test_a_failed_cache_write_fails_the_batch(server, make, tmp_path):
    llm, _, _ = make(openai_config(server.base_url))
    with sqlite3.connect(tmp_path / "cache" / "llm_responses.sqlite") as db:  # every write now fails
        db.execute("CREATE TRIGGER full BEFORE INSERT ON responses BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        llm.complete(prompts(3))


def test_write_many_stores_answers_and_releases_their_claims_in_one_go(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", "readwrite")
    assert cache.claim(["a", "b", "c"], "me") == {"a", "b", "c"}
    cache.mark_failed("a", "HTTP 500")
    answered = Response(ok=True, text="A")
    cache.write_many([("a", answered, {"t": 1}), ("b", Response(ok=False, text=None, error="HTTP 500"), None)],
                     [("a", "me"), ("b", "me")])
    assert cache.get_many(["a", "b"]) == {"a": (answered, {"t": 1})}  # a transient failure is never stored
    assert cache.failed_keys(["a"]) == set()  # answered now
    assert cache.claim(["a", "b", "c"], "other") == {"a", "b"}  # c is still claimed by me


def test_turn_writes_land_at_the_end_of_the_loop_turn_and_raise_a_failed_write(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", "readwrite")
    recorded: list[tuple[dict, set]] = []  # each ledger row, with what the cache held when it was recorded
    writes = TurnWrites(cache, lambda row: recorded.append((row, set(cache.get_many(["k"])))))

    async def in_a_loop() -> tuple[dict, dict]:
        writes.put("k", Response(ok=True, text="K"), None, {"key": "k"})
        before = cache.get_many(["k"])
        await asyncio.sleep(0)  # the turn ends
        return before, cache.get_many(["k"])

    before, after = asyncio.run(in_a_loop())
    assert before == {} and set(after) == {"k"}
    # the attempt's ledger row (journaled: what a killed run's account keeps) only once its answer is stored
    assert recorded == [({"key": "k"}, {"k"})]
    writes.put("now", Response(ok=True, text="N"), None)  # outside a loop: written at once
    assert set(cache.get_many(["now"])) == {"now"}

    cache._db.execute("PRAGMA query_only = ON")  # the file can no longer be written

    async def failing() -> None:
        writes.put("lost", Response(ok=True, text="L"), None, {"key": "lost"})
        await asyncio.sleep(0)

    asyncio.run(failing())  # a loop callback's error would only be logged by the loop...
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        writes.flush()  # ...so the batch's last flush raises it
    assert recorded[-1][0] == {"key": "lost"}  # paid for: in the account though the cache could not keep it
