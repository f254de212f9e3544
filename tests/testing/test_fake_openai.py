"""The loopback server as a command: prints its URL first, serves chat completions, counts, injects faults."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from engine.testing.fake_openai import FakeOpenAI, plan_faults, serve_in_process, stats


def post_chat(base_url: str, content: str, task: str = "generic.echo") -> tuple[int, bytes]:
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": content}], "logprobs": True, "top_logprobs": 2}
    ).encode()
    request = urllib.request.Request(
        base_url + "/chat/completions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Execfeed-Task": task},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_command_serves_chat_completions_and_counts_them():
    with serve_in_process("--seed", "3") as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        status, body = post_chat(url, "hello there")
        reply = json.loads(body)
        assert status == 200 and reply["choices"][0]["message"]["content"] == "hello there"
        assert [t["token"] for t in reply["choices"][0]["logprobs"]["content"]] == ["hello", "there"]
        assert reply["usage"]["completion_tokens"] == 2
        plan_faults(url, ["rate_limit"])
        status, _ = post_chat(url, "again")
        assert status == 429
        assert stats(url) == {"requests": 2, "answered": 1, "billed_tokens": reply["usage"]["total_tokens"],
                              "in_flight": 0, "max_in_flight": 1, "faults": {"rate_limit": 1},
                              "batches": 0, "batch_lines": 0, "model_lists": 0}
        assert stats(url, reset=True)["requests"] == 0


def test_fault_draws_are_deterministic_for_the_seed():
    def draws(seed: int) -> list:
        server = FakeOpenAI(fail_rate=0.5, seed=seed)
        return [server.draw_fault(f"body {i % 10}".encode(), "0") for i in range(40)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert None in draws(1) and len(set(draws(1))) > 3  # some requests pass, faults of several kinds


def test_a_request_meets_the_same_fault_whatever_the_arrival_order():
    requests = [(f"body {i % 5}".encode(), str(i // 5)) for i in range(30)]  # 5 prompts, 6 samples each

    def faults(order: list[int]) -> dict:
        server = FakeOpenAI(fail_rate=0.5, seed=4)
        return {i: server.draw_fault(*requests[i]) for i in order}

    forward = faults(list(range(30)))
    assert forward == faults(list(reversed(range(30))))
    assert len(set(forward.values())) > 2


def test_a_down_server_answers_503_until_its_time_is_up():
    # the window is long enough that the first request falls in it on a busy machine; then it is asked until it
    # answers, not after a fixed sleep, and the answer comes no sooner than the window allows
    before_start = time.monotonic()
    with serve_in_process("--down-for-s", "3") as url:
        assert post_chat(url, "hello")[0] == 503
        while (status := post_chat(url, "hello")[0]) == 503:
            time.sleep(0.1)
        assert status == 200 and time.monotonic() - before_start >= 3
        assert stats(url)["answered"] == 1


def test_unknown_faults_are_refused():
    with pytest.raises(ValueError, match="unknown faults"):
        FakeOpenAI(faults=("meteor",))
