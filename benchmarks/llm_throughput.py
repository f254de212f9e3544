"""LLM layer throughput against the loopback server (its own process) answering in a fixed 100 ms.

    python -m benchmarks.llm_throughput [--requests 2000] [--latency-ms 100]

For each concurrency (max_in_flight) it times one batch through the real openai backend (aiohttp transport,
cache, ledger, shared in-flight slots) and reports throughput as a ratio to the ideal (concurrency / latency)
and to sequential calls measured in the same run. Concurrency 1 sends fewer requests (50 by default:
2,000 sequential calls would take over 3 minutes). Just before each batch, a bare aiohttp client sends as
many requests at the same concurrency to the same server: what the server and the machine allow with next to
no client behind them, so `x bare client` is the LLM layer's own cost, whatever else loads the machine.
Then the concurrency-64 batch is sent again and answered from the response cache, with the server's counter
showing that no request reached it. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from engine.llm import Request, make_llm
from engine.testing.fake_openai import serve_in_process, stats


def timed_batch(base_url: str, cache_dir: Path, concurrency: int, n: int) -> tuple[float, list]:
    llm = make_llm(
        {
            "backend": "openai",
            "model": "bench",
            "base_url": base_url,
            "api_key": "bench",
            "max_in_flight": concurrency,
            "timeout_s": 30,
            "progress": False,
        },
        stage="benchmark",
        role="teacher",
        cache_dir=cache_dir,
        ledger=[],
        truth=[],
    )
    requests = [
        Request(
            [{"role": "user", "content": f"benchmark prompt {i} at concurrency {concurrency}"}],
            task="generic.echo",
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    responses = llm.complete(requests)
    seconds = time.perf_counter() - started
    failed = [r.error for r in responses if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed at concurrency {concurrency}, e.g. {failed[0]}")
    return seconds, responses


def bare_client_seconds(base_url: str, concurrency: int, n: int) -> float:
    """The same number of requests sent with a plain aiohttp session: no cache, ledger, slots or retries."""

    async def send_all() -> float:
        in_flight = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def send(i: int) -> None:
                messages = [{"role": "user", "content": f"bare prompt {i} at concurrency {concurrency}"}]
                body = {"model": "bench", "messages": messages}
                async with in_flight, session.post(
                    base_url + "/chat/completions", json=body, headers={"X-Execfeed-Task": "generic.echo"}
                ) as reply:
                    reply.raise_for_status()
                    await reply.read()

            started = time.perf_counter()
            await asyncio.gather(*(send(i) for i in range(n)))
            return time.perf_counter() - started

    return asyncio.run(send_all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sequential-requests", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", default="1,16,64,256")
    args = parser.parse_args()
    latency_s = args.latency_ms / 1000
    results = []
    with tempfile.TemporaryDirectory() as tmp, serve_in_process("--latency-ms", str(args.latency_ms)) as url:
        cache_dir = Path(tmp)
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            n = args.sequential_requests if concurrency == 1 else args.requests
            bare_seconds = bare_client_seconds(url, concurrency, n)
            seconds, _ = timed_batch(url, cache_dir, concurrency, n)
            results.append(
                {
                    "concurrency": concurrency,
                    "requests": n,
                    "seconds": round(seconds, 3),
                    "req_per_s": round(n / seconds, 1),
                    "of_ideal": round(n / seconds / (concurrency / latency_s), 3),
                    "bare_of_ideal": round(n / bare_seconds / (concurrency / latency_s), 3),
                    "vs_bare": round(bare_seconds / seconds, 3),
                }
            )
        sequential = next((r["req_per_s"] for r in results if r["concurrency"] == 1), 1 / latency_s)
        for r in results:
            r["vs_sequential"] = round(r["req_per_s"] / sequential, 1)
        cached_concurrency = 64 if any(r["concurrency"] == 64 for r in results) else results[-1]["concurrency"]
        stats(url, reset=True)
        seconds, responses = timed_batch(url, cache_dir, cached_concurrency, args.requests)
        cache = {
            "concurrency": cached_concurrency,
            "requests": args.requests,
            "seconds": round(seconds, 3),
            "req_per_s": round(args.requests / seconds, 1),
            "all_cached": all(r.cached for r in responses),
            "server_requests": stats(url)["requests"],
        }

    print(f"loopback server latency {args.latency_ms:g} ms; concurrency 1 sends {args.sequential_requests} requests")
    print(
        f"{'concurrency':>11} {'requests':>8} {'seconds':>8} {'req/s':>8} {'of ideal':>8} {'x sequential':>12} "
        f"{'bare client of ideal':>20} {'x bare client':>13}"
    )
    for r in results:
        print(
            f"{r['concurrency']:>11} {r['requests']:>8} {r['seconds']:>8.2f} {r['req_per_s']:>8.1f} "
            f"{r['of_ideal']:>8.3f} {r['vs_sequential']:>12.1f} {r['bare_of_ideal']:>20.3f} {r['vs_bare']:>13.3f}"
        )
    print(
        f"from the cache: {cache['requests']} requests in {cache['seconds']:.3f} s "
        f"({cache['req_per_s']:.0f} req/s), "
        f"{cache['server_requests']} reached the server"
    )
    print(
        json.dumps({"benchmark": "llm_throughput", "latency_ms": args.latency_ms, "results": results, "cache": cache})
    )


if __name__ == "__main__":
    main()
