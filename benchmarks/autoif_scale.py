"""AutoIF at the real case's scale on sim with zero latency: `python -m benchmarks.autoif_scale [--scale F]`.

The real case is augment_calls=400 of ~50 lines (docs/autoif.md) with 8 queries x 2 responses per constraint; --scale multiplies augment_calls
(e.g. 0.05 for a quick look). Reports total time, peak memory (this process and, separately, the largest sandbox
worker), seconds per stage, sandbox executions per second, and the funnel beside the original's
(16,928 -> 14,579 -> 13,077 -> 122,932 -> 61,492), each step as a ratio of the step before. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

ORIGINAL = {"constraints": 16928, "constraints_verified": 14579, "constraints_aligned": 13077,
            "responses": 122932, "responses_verified": 61492}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real case's 400 augment calls")
    args = parser.parse_args()
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.config import PROJECT_ROOT
    from engine.runner import run

    calls = max(1, round(400 * args.scale))
    overrides = ["+experiment=autoif", f"autoif.augment_calls={calls}", "autoif.lines_per_call=50",
                 "autoif.queries_per_instruction=8", "autoif.responses_per_query=2", "llm.sim.latency_ms=0"]
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    with tempfile.TemporaryDirectory(prefix="autoif_scale_") as tmp:
        cfg["cache_dir"], cfg["progress"] = str(Path(tmp) / "cache"), False
        started = time.perf_counter()
        summary = run(cfg, Path(tmp) / "run")
        seconds = time.perf_counter() - started
    stages = summary["stages"]
    sandbox_seconds = sum(stages[s]["seconds"] for s in ("verifier_matrix", "response_checks"))
    funnel = {name: stages[name]["rows_out"] for name in ORIGINAL}
    names = list(ORIGINAL)
    steps = zip(names, names[1:], strict=False)
    ratios = {f"{b}/{a}": {"here": round(funnel[b] / funnel[a], 3) if funnel[a] else None,
                           "original": round(ORIGINAL[b] / ORIGINAL[a], 3)} for a, b in steps}
    for name, s in stages.items():
        print(f"{name:26s} {s['rows_in']:>9} -> {s['rows_out']:>9}  {s['seconds']:8.2f} s")
    result = {
        "benchmark": "autoif_scale", "scale": args.scale, "augment_calls": calls, "status": summary["status"],
        "total_s": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_worker_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "sandbox_executions": summary["sandbox"]["executions"],
        "sandbox_executions_per_s": round(summary["sandbox"]["executions"] / sandbox_seconds, 1)
        if sandbox_seconds else None,
        "llm_calls": summary["llm"]["calls"],
        "stage_seconds": {name: s["seconds"] for name, s in stages.items()},
        "funnel": funnel, "funnel_ratios": ratios, "final_responses_scored": stages["responses_scored"]["rows_out"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
