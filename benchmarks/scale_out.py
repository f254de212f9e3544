"""Local executor against Ray executor on this machine, then a projection to a cluster:
`python -m benchmarks.scale_out [--rows N] [--requests N]`.

Two sharded stages, each run once with `executor=local` and once with `executor=ray` (2 actors of 1 CPU; the
Ray instance is started before timing, as a cluster would be running already):
- `verified`: sandbox-heavy, shaped like AutoIF's verification (each row runs `funcs` verifier functions on
  its text in the sandbox, outcome cache off so every execution is real);
- `answered`: model calls against two loopback OpenAI servers as a fleet (100 ms latency, response cache off).
The ratio ray/local of each stage's seconds is Ray's overhead (aim: at most 1.15 on 2 cores). From the
per-execution and per-call costs measured, it projects the wall time of the real-case AutoIF run (estimated
counts below) on 8 nodes x 8 cores with a 16-endpoint fleet. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from engine.context import Context
from engine.llm import Request
from engine.sandbox import Job

VERIFIERS = [
    "def evaluate(text):\n    return sum(1 for w in text.split() if w.isalpha()) >= 3\n",
    "def evaluate(text):\n    import re\n    return re.search(r'[A-Z][a-z]+', text) is not None\n",
    "def evaluate(text):\n    import collections\n    c = collections.Counter(text.lower())\n"
    "    return max(c.values()) < len(text) // 2\n",
    "def evaluate(text):\n    return all(len(s.strip()) < 400 for s in text.split('.'))\n",
]
# The real case, estimated from AutoIF's funnel (16,928 constraints, 14,579 verified, 122,932 responses) and its
# settings (5 functions and >= 10 cases per constraint, 8 queries x 2 responses, an LLM judge):
REAL_CASE = {
    # matrix: constraints x functions x ~12 cases; response checks: responses x ~4 kept functions
    "sandbox_executions": 16_928 * 5 * 12 + 122_932 * 4,
    # augment + functions and cases per constraint + back-translation + NLI + queries + responses + judge
    "model_calls": 400 + 16_928 * 6 + 14_579 * 2 + 13_077 + 122_932 + 61_492,
}
CLUSTER = {"nodes": 8, "cores_per_node": 8, "endpoints": 16, "in_flight_per_endpoint": 64, "latency_s": 2.0}


def verified(texts: list[dict], ctx: Context) -> list[dict]:
    """One row per text: how many of the verifier functions accept it."""
    jobs = [Job(source, "evaluate", (t["text"],)) for t in texts for source in VERIFIERS]
    outcomes = ctx.sandbox.run(jobs)
    n = len(VERIFIERS)
    return [{"accepted": sum(o.value is True for o in outcomes[i * n:(i + 1) * n]), "parent_ids": [t["id"]]}
            for i, t in enumerate(texts)]


def answered(texts: list[dict], ctx: Context) -> list[dict]:
    """One row per text: the model's reply to it."""
    replies = ctx.llm("teacher").complete([Request([{"role": "user", "content": t["text"]}], task="generic.echo")
                                           for t in texts])
    return [{"reply": r.text, "ok": r.ok, "parent_ids": [t["id"]]} for r, t in zip(replies, texts, strict=True)]


def config(work: Path, tag: str, executor: dict, fleet: list[str], rows: int, requests: int) -> dict:
    texts = work / "texts.jsonl"
    if not texts.exists():
        texts.write_text("".join(json.dumps({"text": f"Sentence {i}. " + "Some words here " * (i % 9 + 1)}) + "\n"
                                 for i in range(max(rows, requests))))
    return {
        "name": "scale_out", "seed": 0, "cache_dir": str(work / tag / "cache"), "progress": False,
        "llm": {"backend": "openai", "model": "fake", "base_url": fleet, "api_key": "bench", "cache": "off",
                "max_in_flight": 32, "progress": False},
        "roles": {"teacher": {}},
        "sandbox": {"workers": 2, "timeout_s": 2.0, "cache": "off"},
        "executor": executor,
        "stages": {
            "texts": {"source": str(texts)},
            "sandbox_texts": {"sql": str(work / "head.sql"), "inputs": {"t": "texts"}},
            "verified": {"fn": "benchmarks.scale_out:verified", "inputs": {"texts": "sandbox_texts"},
                         "sandbox": True, "shard": {"input": "texts", "size": max(1, rows // 8)}},
            "model_texts": {"sql": str(work / "head_llm.sql"), "inputs": {"t": "texts"}},
            "answered": {"fn": "benchmarks.scale_out:answered", "inputs": {"texts": "model_texts"},
                         "llm": ["teacher"], "shard": {"input": "texts", "size": max(1, requests // 8)}},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="rows of the sandbox stage (x4 executions)")
    parser.add_argument("--requests", type=int, default=1000, help="model calls of the model stage")
    args = parser.parse_args()
    import ray

    from engine.runner import run
    from engine.testing.fake_openai import serve_in_process

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start_s = time.perf_counter() - t0
    seconds: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        (work / "head.sql").write_text(f"SELECT * FROM t ORDER BY id LIMIT {args.rows}")
        (work / "head_llm.sql").write_text(f"SELECT * FROM t ORDER BY id LIMIT {args.requests}")
        fleet = [stack.enter_context(serve_in_process("--latency-ms", "100")) for _ in range(2)]
        for tag, executor in (("local", {"kind": "local"}), ("ray", {"kind": "ray", "actors": 2})):
            summary = run(config(work, tag, executor, fleet, args.rows, args.requests), work / tag / "run")
            if summary["status"] != "ok":
                raise SystemExit(f"{tag} run failed: {summary['error']}")
            seconds[tag] = {s: summary["stages"][s]["seconds"] for s in ("verified", "answered")}
            print(f"{tag:5}  verified {seconds[tag]['verified']:7.2f} s   answered {seconds[tag]['answered']:7.2f} s")
    ray.shutdown()
    executions = args.rows * len(VERIFIERS)
    # per core: the local run kept both cores busy with sandbox workers
    core_s_per_execution = seconds["local"]["verified"] * 2 / executions
    call_s = seconds["local"]["answered"] / args.requests
    ratio = {s: round(seconds["ray"][s] / seconds["local"][s], 3) for s in ("verified", "answered")}
    cores = CLUSTER["nodes"] * CLUSTER["cores_per_node"]
    sandbox_h = REAL_CASE["sandbox_executions"] * core_s_per_execution * max(ratio["verified"], 1) / cores / 3600
    # model calls: bound by the fleet's concurrency at a real model's latency, not by this machine's CPU
    fleet_rate = CLUSTER["endpoints"] * CLUSTER["in_flight_per_endpoint"] / CLUSTER["latency_s"]
    model_h = REAL_CASE["model_calls"] / fleet_rate / 3600
    result = {
        "ray_start_s": round(ray_start_s, 2),
        "seconds": seconds,
        "ray_over_local": ratio,
        "sandbox_core_ms_per_execution": round(core_s_per_execution * 1000, 3),
        "loopback_ms_per_call_at_64_in_flight": round(call_s * 1000, 3),
        "real_case": REAL_CASE,
        "cluster": CLUSTER,
        "projection_hours": {"sandbox": round(sandbox_h, 3), "model_calls": round(model_h, 3),
                             "total_if_sequential": round(sandbox_h + model_h, 3)},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
