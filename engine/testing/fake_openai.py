"""A loopback OpenAI-compatible server answering with the sim backend, with injected faults.

    python -m engine.testing.fake_openai --port 0 [--latency-ms N] [--fail-rate P] [--seed S] [--down-for-s K]
        [--models M1,M2]

prints its base URL (`http://127.0.0.1:PORT/v1`) as the first line of stdout, then serves
POST /v1/chat/completions (with logprobs/top_logprobs), each reply N ms after its request arrived. Headers
`X-Execfeed-Task` and `X-Execfeed-Sample` route a request to its sim handler (default task `generic.echo`).

Faults (`FAULTS`), each drawn at rate P: rate_limit (429 with Retry-After), server_error (500), slow (a reply
later than any sane client timeout), drop (connection closed without a reply), malformed (a cut JSON body),
empty_choices, length (a reply cut at half its words, finish_reason "length"), content_filter (no content).
The draw is seeded by (seed, body, sample index, how many times that request was seen): the n-th attempt at a
request meets the same fault in every run with the same seed and rate, whatever the arrival order, and a retry
meets a fresh draw. POST /faults {"plan": [kind, ...]} forces the next requests' faults in arrival order, for
tests of one fault at a time. `--down-for-s K`: for the first K seconds after start every request gets a 503,
as an endpoint that is down (or still loading its model).

The Files and Batches APIs (/v1/files, /v1/batches: engine.testing.fake_batches) answer batch lines with the same
sim answers and faults, over `--batch-delay-s` per batch.

`--models M1,M2`: GET /v1/models lists these models (as vLLM or OpenAI list theirs; requests for any model are
still answered); without it the server has no /v1/models (404), as a server that lists nothing.

GET /stats gives {"requests", "answered", "billed_tokens", "in_flight", "max_in_flight", "faults": {kind: n},
"batches", "batch_lines", "model_lists"}: `answered` counts replies sent with a usage block (what an endpoint
bills, online or in a batch), `billed_tokens` their tokens, `model_lists` the GETs of /v1/models; POST
/stats/reset zeroes the online counts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from engine.llm.config import SimSettings
from engine.llm.openai_backend import SIM_FINGERPRINT, SIM_TRUTH_FIELD
from engine.llm.sim_backend import answer
from engine.llm.types import LLMConfigError, Request
from engine.testing.fake_batches import FakeBatchAPI

FAULTS = (
    "rate_limit",
    "server_error",
    "slow",
    "drop",
    "malformed",
    "empty_choices",
    "length",
    "content_filter",
)


class FakeOpenAI:
    def __init__(
        self,
        *,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        seed: int = 0,
        faults: tuple[str, ...] = FAULTS,
        slow_s: float = 30.0,
        retry_after_s: float = 0.05,
        sim: SimSettings | None = None,
        down_for_s: float = 0.0,
        batch_delay_s: float = 0.0,
        models: tuple[str, ...] | None = None,
    ):
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self.latency_s = latency_ms / 1000
        self.fail_rate = fail_rate
        self.seed = seed
        self.faults = faults
        self.slow_s = slow_s
        self.retry_after_s = retry_after_s
        self.sim = sim or SimSettings(seed=seed)
        self.plan: deque[str | None] = deque()  # None: no fault for that request
        self._seen: Counter[str] = Counter()
        self.started = time.monotonic()
        self.down_for_s = down_for_s
        self.batch_api = FakeBatchAPI(self, batch_delay_s)
        self.models = models
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.answered = 0
        self.billed_tokens = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.model_lists = 0
        self.fault_counts: Counter[str] = Counter()

    def stats(self) -> dict:
        return {
            "requests": self.requests,
            "answered": self.answered,
            "billed_tokens": self.billed_tokens,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "faults": dict(self.fault_counts),
            "model_lists": self.model_lists,
            **self.batch_api.stats(),
        }

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        if self.models is not None:
            app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/stats", self._get_stats)
        app.router.add_post("/stats/reset", self._reset_stats)
        app.router.add_post("/faults", self._set_plan)
        self.batch_api.routes(app)
        return app

    # --------------------------------------------------------------------------------------------- control

    async def _get_stats(self, _request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _reset_stats(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response(self.stats())

    async def _set_plan(self, request: web.Request) -> web.Response:
        plan = (await request.json())["plan"]
        if set(plan) - set(FAULTS):
            return web.json_response({"error": f"unknown faults in {plan}; known: {FAULTS}"}, status=400)
        self.plan = deque(plan)
        return web.json_response({"plan": plan})

    # -------------------------------------------------------------------------------------------- the API

    async def _list_models(self, _request: web.Request) -> web.Response:
        self.model_lists += 1
        data = [{"id": model, "object": "model", "created": 0, "owned_by": "execfeed"} for model in self.models]
        return web.json_response({"object": "list", "data": data})

    def draw_fault(self, raw: bytes, sample: str) -> str | None:
        if self.plan:
            return self.plan.popleft()
        if not self.fail_rate:
            return None
        # the sample index travels in a header, not the body: without it, samples of one prompt would share a
        # count, and which of them met a fault would depend on their arrival order
        digest = hashlib.sha256(raw + b"\0" + sample.encode()).hexdigest()
        self._seen[digest] += 1
        rng = random.Random(f"{self.seed}:{digest}:{self._seen[digest]}")
        return rng.choice(self.faults) if rng.random() < self.fail_rate else None

    async def _chat(self, http: web.Request) -> web.StreamResponse:
        # The reply is made as soon as the request is read and sent `latency` after it arrived: the latency
        # is the server's whole answer time, not a wait on top of its own work. With a fixed latency, requests
        # sent together come back together, batch after batch, and work done after the wait delayed each reply
        # by that of the replies ahead of it (a bare aiohttp client at 64 in flight: ~0.89 of the ideal
        # throughput then, ~0.94 now).
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            raw = await http.read()
            if time.monotonic() - self.started < self.down_for_s:
                return _error(503, "Service unavailable (simulated: the endpoint is down)", "service_unavailable")
            fault = self.draw_fault(raw, http.headers.get("X-Execfeed-Sample", "0"))
            if fault:
                self.fault_counts[fault] += 1
            task, sample = http.headers.get("X-Execfeed-Task", "generic.echo"), http.headers.get("X-Execfeed-Sample", 0)
            reply = self.reply(json.loads(raw), task, int(sample), fault)
            if self.latency_s:
                await asyncio.sleep(arrived + self.latency_s - loop.time())
            if fault == "slow":
                await asyncio.sleep(self.slow_s)
            if fault == "drop":
                http.transport.close()
                raise web.HTTPInternalServerError()  # never written: the connection is gone
            if reply.status == 200 and fault != "malformed":
                self.answered += 1
                self.billed_tokens += json.loads(reply.body)["usage"]["total_tokens"]
            return reply
        finally:
            self.in_flight -= 1

    def reply(self, body: dict, task: str, sample: int, fault: str | None) -> web.Response:
        """The reply to a chat completion body: the sim's answer for `task`, or the injected fault's."""
        if fault == "rate_limit":
            wait = self.retry_after_s
            return _error(
                429,
                "Rate limit reached (simulated)",
                "rate_limit_exceeded",
                {"Retry-After": f"{wait:g}", "retry-after-ms": f"{wait * 1000:g}"},
            )
        if fault == "server_error":
            return _error(500, "The server had an error (simulated)", "server_error")
        if fault == "malformed":
            return web.Response(text='{"id": "chatcmpl-cut", "object": "chat.comp', content_type="application/json")
        request = Request(
            messages=body["messages"],
            task=task,
            sample_index=sample,
            temperature=body.get("temperature"),
            max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
            top_p=body.get("top_p"),
            stop=body.get("stop"),
            logprobs=bool(body.get("logprobs")),
            top_logprobs=body.get("top_logprobs"),
        )
        try:
            response, truth = answer(request, self.sim)
        except LLMConfigError as err:
            return _error(400, str(err), "invalid_request_error")
        text, finish_reason = response.text, response.finish_reason
        if fault == "length":  # cut after half its words, spacing and line breaks kept, as a model's cut is
            words = list(re.finditer(r"\S+", text))
            text, finish_reason = text[: words[max(0, len(words) // 2 - 1)].end()] if words else text, "length"
        elif fault == "content_filter":
            text, finish_reason = None, "content_filter"
        logprobs = None
        if response.logprobs is not None:
            logprobs = {
                "content": [
                    {
                        "token": t.token,
                        "logprob": t.logprob,
                        "bytes": list(t.token.encode()),
                        "top_logprobs": [
                            {"token": k, "logprob": v, "bytes": list(k.encode())} for k, v in t.top.items()
                        ],
                    }
                    for t in response.logprobs
                ]
            }
        choices = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": logprobs,
                "finish_reason": finish_reason,
            }
        ]
        return web.json_response(
            {
                "id": f"chatcmpl-sim-{self.requests}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "sim"),
                "system_fingerprint": SIM_FINGERPRINT,
                # what the sim knows of this reply, for tests and reports (a cut or withheld reply: nothing)
                SIM_TRUTH_FIELD: truth if fault is None else None,
                "choices": [] if fault == "empty_choices" else choices,
                "usage": {
                    "prompt_tokens": response.prompt_tokens,
                    "completion_tokens": response.completion_tokens,
                    "total_tokens": response.prompt_tokens + response.completion_tokens,
                },
            }
        )


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": code, "code": code}}, status=status, headers=headers
    )


# ------------------------------------------------------------------------------------- running the server


async def start(server: FakeOpenAI, port: int = 0) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/v1"


@dataclass
class ThreadServer:
    base_url: str
    server: FakeOpenAI


@contextmanager
def serve_in_thread(**options) -> Iterator[ThreadServer]:
    """The server on its own event loop in a daemon thread of this process (for tests)."""
    server = FakeOpenAI(**options)
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        started["runner"], started["url"] = loop.run_until_complete(start(server))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="fake-openai", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield ThreadServer(started["url"], server)
    finally:
        asyncio.run_coroutine_threadsafe(started["runner"].cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@contextmanager
def serve_in_process(*args: str) -> Iterator[str]:
    """The server as `python -m engine.testing.fake_openai --port 0 ARGS` (for benchmarks and for tests that
    need it out of the client's process); yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.testing.fake_openai", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"fake_openai did not start (exit status {proc.poll()}, printed {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def stats(base_url: str, *, reset: bool = False) -> dict:
    """GET /stats (or POST /stats/reset) of a server at `base_url` (its /v1 URL)."""
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(root + ("/stats/reset" if reset else "/stats"), method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def plan_faults(base_url: str, kinds: list[str]) -> None:
    """Force the faults of the next requests, in arrival order."""
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(
        root + "/faults",
        data=json.dumps({"plan": kinds}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engine.testing.fake_openai", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0, help="probability of a fault per request")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated kinds to draw from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow-s", type=float, default=30.0, help="how late a 'slow' reply comes")
    parser.add_argument("--retry-after-s", type=float, default=0.05, help="Retry-After sent with a 429")
    parser.add_argument("--down-for-s", type=float, default=0.0, help="answer 503 to everything for K seconds")
    parser.add_argument("--batch-delay-s", type=float, default=0.0, help="how long a batch takes to answer")
    parser.add_argument("--models", default=None, help="comma-separated models GET /v1/models lists (default: 404)")
    args = parser.parse_args(argv)
    server = FakeOpenAI(
        latency_ms=args.latency_ms,
        fail_rate=args.fail_rate,
        seed=args.seed,
        faults=tuple(args.faults.split(",")),
        slow_s=args.slow_s,
        retry_after_s=args.retry_after_s,
        down_for_s=args.down_for_s,
        batch_delay_s=args.batch_delay_s,
        models=None if args.models is None else tuple(args.models.split(",")),
    )

    async def serve() -> None:
        runner, url = await start(server, args.port)
        print(url, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
