"""Code/test co-generation on real model outputs: CodeT's recorded CodeGen-16B samples for HumanEval, replayed.

    python -m benchmarks.codegen_replay [--tasks N] [--timeout-s 0.5] [--cache-dir DIR] [OVERRIDE ...]

Two engine runs of `+experiment=codegen_alignment llm=replay codegen_alignment.crowd=replay`:
- consensus: one round of 100 functions x 100 test completions per task (CodeT's setting): the average
  sample's pass@1 (baseline) against CodeT's top-1 (paper score and released-code sqrt score) and B4's top-1,
  and how many test completions pass the reference solution;
- loop: up to 100 rounds of 1 function + 1 test completion (samples 0..99), regenerating both until a function
  passes its own round's non-trivial test set: alignment@K and precision@K for K in 1, 10, 100.
Published (CodeT paper, HumanEval pass@1): CodeGen-Mono-16B 29.7 -> 36.7 with CodeT; code-davinci-002 47.0 -> 65.8.
The sample files are read from ../shared/data (not shipped). OVERRIDEs (Hydra syntax) go to both runs, e.g.
`codegen_alignment.b4.wrong_passes_wrong.beta=1e5`; with --cache-dir a rerun reuses the stages nothing changed
(then the times measure reuse). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from engine.config import PROJECT_ROOT
from engine.testing import SHARED_DATA

FILES = [SHARED_DATA / f"codet_HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_{k}.jsonl"
         for k in ("code_solution", "test_case")]


def run(overrides: list[str], root: Path, cache_dir: Path) -> dict:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.runner import run as run_engine

    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=codegen_alignment", "llm=replay",
                                           "codegen_alignment.crowd=replay", *overrides])
    cfg = OmegaConf.to_container(cfg, resolve=True)
    cfg["cache_dir"], cfg["progress"] = str(cache_dir), False
    summary = run_engine(cfg, root / "run")
    if summary["status"] != "ok":
        sys.exit(f"run failed: {summary['error']}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=None, help="the first N HumanEval tasks (default: all 164)")
    parser.add_argument("--timeout-s", type=float, default=0.5, help="sandbox wall-clock limit per job")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep LLM, sandbox and stage caches here")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for both runs")
    args = parser.parse_args()
    if not all(f.is_file() for f in FILES):
        sys.exit(f"the recorded samples are not there: {FILES}")
    common = [f"codegen_alignment.task_limit={args.tasks or 'null'}", f"sandbox.timeout_s={args.timeout_s}",
              *args.overrides]
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp) / "cache"
        t0 = time.perf_counter()
        consensus = run([*common, "codegen_alignment.rounds=1", "codegen_alignment.functions_per_round=100",
                         "codegen_alignment.test_sets_per_round=100"], Path(tmp) / "consensus", cache_dir)
        t1 = time.perf_counter()
        loop = run([*common, "codegen_alignment.rounds=100", "codegen_alignment.strategies=[random,first_aligned]"],
                   Path(tmp) / "loop", cache_dir)
        t2 = time.perf_counter()
    c, lp = consensus["codegen_alignment"], loop["codegen_alignment"]
    curve = {row["k"]: row for row in lp["curve"]}
    last = lp["rounds"]  # the loop stops early only when every task aligned, so later K keep the last values

    def at(k: int, key: str):
        return curve[min(k, last)][key] if last else None

    result = {
        "tasks": c["tasks"], "tasks_rejected": consensus["stages"]["tasks_checked"]["rejected"],
        "baseline_pass_at_1": c["pass_at_1"]["random"],
        "codet_top1": c["pass_at_1"]["codet"], "codet_sqrt_top1": c["pass_at_1"]["codet_sqrt"],
        "b4_top1": c["pass_at_1"].get("b4"),
        "first_aligned_100x100_pass_at_1": c["pass_at_1"]["first_aligned"],
        "alignment_at": {k: at(k, "alignment") for k in (1, 10, 100)},
        "precision_at": {k: at(k, "precision") for k in (1, 10, 100)},
        "loop_rounds": last, "trivial_test_rate": c["tests"]["trivial_test_rate"],
        "no_assert_rate": c["tests"]["no_assert_rate"],
        "test_sets_correct_rate": c["test_generation"]["correct_rate"],
        "nontrivial_test_sets_correct_rate": c["test_generation"]["nontrivial_correct_rate"],
        "seconds": {"consensus_run": round(t1 - t0, 1), "loop_run": round(t2 - t1, 1)},
        "published": {"codegen16b_pass_at_1": 0.297, "codegen16b_codet": 0.367,
                      "code_davinci_002_pass_at_1": 0.470, "code_davinci_002_codet": 0.658},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
