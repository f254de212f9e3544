"""LLM layer throughput against the loopback server (its own process) answering in a fixed 100 ms, as a ratio to a
bare aiohttp client in the same run.

    python -m benchmarks.llm_throughput [--requests 2000] [--latency-ms 100] [--transports aiohttp,sdk]
                                        [--rounds 2] [--busy 2]

At each concurrency (max_in_flight), a bare aiohttp client (one session, a semaphore, nothing else) and the
engine's openai backend on each `llm.transport` (with the response cache, a journaled ledger as a run keeps it,
the shared in-flight slots) send the same number of fresh requests to the same server, taking turns for
`--rounds` rounds (the order reversed every other round), so a machine whose load changes meanwhile weighs on
both alike. `x bare` is the engine's throughput over the bare client's: the LLM layer's own cost, whatever else
loads the machine. `cpu ms/req` is this process's CPU time per request (the server runs in its own process).
`--busy N` runs N CPU-bound processes beside it for the whole run, as on a shared machine. Concurrency 1 sends
fewer requests (50 by default: 2,000 sequential calls take over 3 minutes). Then a concurrency-64 batch is sent
again and answered from the response cache, with the server's counter showing that no request reached it. The
load average at start and end is printed; the last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from engine.ledger_journal import JournaledLedger
from engine.llm import Request, make_llm
from engine.testing.fake_openai import serve_in_process, stats


def engine_batch(base_url: str, cache_dir: Path, transport: str, concurrency: int, n: int,
                 tag: str) -> tuple[float, float, list]:
    """(seconds, CPU seconds, responses) of n fresh requests through the engine's LLM layer."""
    ledger = JournaledLedger(cache_dir / f"ledger-{tag}.jsonl")
    llm = make_llm(
        {
            "backend": "openai",
            "model": "bench",
            "base_url": base_url,
            "api_key": "bench",
            "transport": transport,
            "max_in_flight": concurrency,
            "timeout_s": 30,
            "progress": False,
        },
        stage="benchmark",
        role="teacher",
        cache_dir=cache_dir,
        ledger=ledger,
        truth=[],
    )
    requests = [Request([{"role": "user", "content": f"benchmark prompt {i} {tag}"}], task="generic.echo")
                for i in range(n)]
    started, cpu = time.perf_counter(), time.process_time()
    responses = llm.complete(requests)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ledger.close()
    failed = [r.error for r in responses if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed at concurrency {concurrency}, e.g. {failed[0]}")
    return seconds, cpu, responses


def bare_batch(base_url: str, concurrency: int, n: int, tag: str) -> tuple[float, float]:
    """(seconds, CPU seconds) of n requests sent with a plain aiohttp session: no cache, ledger, slots or retries."""

    async def send_all() -> float:
        in_flight = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def send(i: int) -> None:
                body = {"model": "bench", "messages": [{"role": "user", "content": f"bare prompt {i} {tag}"}]}
                async with in_flight, session.post(
                    base_url + "/chat/completions", json=body, headers={"X-Execfeed-Task": "generic.echo"}
                ) as reply:
                    reply.raise_for_status()
                    json.loads(await reply.read())

            started = time.perf_counter()
            await asyncio.gather(*(send(i) for i in range(n)))
            return time.perf_counter() - started

    cpu = time.process_time()
    seconds = asyncio.run(send_all())
    return seconds, time.process_time() - cpu


@contextmanager
def busy(n: int) -> Iterator[None]:
    """n CPU-bound processes beside the benchmark, ended when it ends."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def measure(url: str, cache_dir: Path, transports: list[str], concurrency: int, n: int, rounds: int) -> dict:
    """Both clients' seconds and CPU seconds at one concurrency, summed over rounds taken in turn."""
    clients = ["bare", *transports]
    seconds = dict.fromkeys(clients, 0.0)
    cpu = dict.fromkeys(clients, 0.0)
    for r in range(rounds):
        for client in clients if r % 2 == 0 else clients[::-1]:
            tag = f"c{concurrency} r{r} {client}"
            if client == "bare":
                s, c = bare_batch(url, concurrency, n, tag)
            else:
                s, c, _ = engine_batch(url, cache_dir, client, concurrency, n, tag)
            seconds[client] += s
            cpu[client] += c
    total = n * rounds
    row: dict = {"concurrency": concurrency, "requests": n, "rounds": rounds,
                 "bare_req_per_s": round(total / seconds["bare"], 1),
                 "bare_cpu_ms_per_req": round(cpu["bare"] / total * 1000, 3)}
    for t in transports:
        row[t] = {"req_per_s": round(total / seconds[t], 1), "vs_bare": round(seconds["bare"] / seconds[t], 3),
                  "cpu_ms_per_req": round(cpu[t] / total * 1000, 3)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sequential-requests", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", default="1,16,64,256")
    parser.add_argument("--transports", default="aiohttp", help="llm.transport values to measure, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="turns each client takes at each concurrency")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes to run beside the benchmark")
    args = parser.parse_args()
    transports = args.transports.split(",")
    load_start = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp, busy(args.busy), \
            serve_in_process("--latency-ms", str(args.latency_ms)) as url:
        cache_dir = Path(tmp)
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            n = args.sequential_requests if concurrency == 1 else args.requests
            results.append(measure(url, cache_dir, transports, concurrency, n, args.rounds))
        cached_concurrency = 64 if any(r["concurrency"] == 64 for r in results) else results[-1]["concurrency"]
        stats(url, reset=True)
        tag = f"c{cached_concurrency} r0 {transports[0]}"  # the first round's requests again
        seconds, _, responses = engine_batch(url, cache_dir, transports[0], cached_concurrency, args.requests, tag)
        cache = {
            "concurrency": cached_concurrency,
            "requests": len(responses),
            "seconds": round(seconds, 3),
            "req_per_s": round(len(responses) / seconds, 1),
            "all_cached": all(r.cached for r in responses),
            "server_requests": stats(url)["requests"],
        }
    load_end = os.getloadavg()

    print(f"loopback server latency {args.latency_ms:g} ms; {args.rounds} rounds; concurrency 1 sends "
          f"{args.sequential_requests} requests; {args.busy} CPU-bound processes beside; {os.cpu_count()} cores; "
          f"load average {load_start[0]:.1f} at start, {load_end[0]:.1f} at end")
    header = f"{'concurrency':>11} {'bare req/s':>10} {'bare cpu ms/req':>15}"
    for t in transports:
        header += f" {t + ' req/s':>14} {'cpu ms/req':>10} {'x bare':>7}"
    print(header)
    for r in results:
        line = f"{r['concurrency']:>11} {r['bare_req_per_s']:>10.1f} {r['bare_cpu_ms_per_req']:>15.3f}"
        for t in transports:
            line += f" {r[t]['req_per_s']:>14.1f} {r[t]['cpu_ms_per_req']:>10.3f} {r[t]['vs_bare']:>7.3f}"
        print(line)
    print(f"from the cache: {cache['requests']} requests in {cache['seconds']:.3f} s ({cache['req_per_s']:.0f} req/s), "
          f"{cache['server_requests']} reached the server")
    print(json.dumps({"benchmark": "llm_throughput", "latency_ms": args.latency_ms, "busy": args.busy,
                      "load_average": {"start": round(load_start[0], 2), "end": round(load_end[0], 2)},
                      "results": results, "cache": cache}))


if __name__ == "__main__":
    main()
