"""What prompt optimisation costs: model calls and tokens per iteration, ours against the original notebook's way.

    python -m benchmarks.prompt_opt_cost [--rounds N] [--proposals N]

Two runs of `+experiment=prompt_opt` on `sim`, each with a fresh private cache:
- ours: `proposals` per iteration; each new prompt is scored once on train and kept in the pool with its scores,
  every request goes through the response cache (a prompt seen before, e.g. the best one re-reported on
  held-out, costs nothing);
- original: one proposal per iteration, no cache, no early stop, and, as in the notebook, every prompt of the pool
  scored again on the whole train split each iteration. The engine never re-scores, so those re-scoring calls are
  counted, not made: (pool size x train items) evaluator calls per iteration at the run's measured tokens per
  evaluator call.
Optimisation calls are train scoring plus generator calls; held-out reporting is listed apart and left out of
the ratio (the notebook had no held-out split). "Calls per point" divides optimisation calls by the held-out
accuracy gained over the best initial prompt, in percentage points. The per-iteration lists start with the
initial prompts' scoring, before the loop (iteration -1 in the table). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from engine.config import PROJECT_ROOT
from engine.runner import run

# stage -> (what its calls are for, the table holding one row per request: kept and rejected)
CALL_STAGES = {"answers_initial": "train", "answers": "train", "proposals": "generator",
               "heldout_answers": "heldout"}
# stages outside the loop, whose tables have no iteration column
OUTSIDE_LOOP = ("answers_initial", "heldout_answers")


def run_prompt_opt(work: Path, *overrides: str) -> tuple[dict, Path]:
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=prompt_opt", *overrides])
    cfg = OmegaConf.to_container(cfg, resolve=True)
    cfg["cache_dir"], cfg["progress"] = str(work / "cache"), False
    return run(cfg, work / "run"), work / "run"


def sent_per_iteration(run_dir: Path) -> dict[int, dict[str, dict[str, int]]]:
    """iteration -> purpose -> {calls, tokens}: requests actually sent, each counted in the loop iteration that
    first asked for it (-1: outside the loop, the initial prompts before it and the held-out split after it)."""
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        # information_schema, not duckdb_tables(): a stage table is a view of its Parquet in the stage store
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        selects = [f"select '{purpose}' as purpose, {'-1' if stage in OUTSIDE_LOOP else 'iteration'} "
                   f"as iteration, llm_key from {table}"
                   for stage, purpose in CALL_STAGES.items()
                   for table in (stage, f"{stage}__rejected") if table in tables]
        rows = con.execute(f"""
            with asked as ({' union all '.join(selects)}),
            first_asked as (select llm_key, min(iteration) as iteration, any_value(purpose) as purpose
                            from asked group by llm_key),
            sent as (select key, count(*) as calls, sum(prompt_tokens + completion_tokens) as tokens
                     from llm_calls where attempt > 0 group by key)
            select f.iteration, f.purpose, sum(s.calls), sum(s.tokens)
            from first_asked f join sent s on s.key = f.llm_key group by all order by all""").fetchall()
    out: dict[int, dict[str, dict[str, int]]] = {}
    for iteration, purpose, calls, tokens in rows:
        out.setdefault(iteration, {})[purpose] = {"calls": int(calls), "tokens": int(tokens)}
    return out


def ours_summary(summary: dict, per_iteration: dict) -> dict:
    opt = [sum(e.get(p, {}).get("calls", 0) for p in ("train", "generator")) for e in per_iteration.values()]
    opt_tokens = [sum(e.get(p, {}).get("tokens", 0) for p in ("train", "generator")) for e in per_iteration.values()]
    heldout = sum(e.get("heldout", {}).get("calls", 0) for e in per_iteration.values())
    return {"optimisation_calls_per_iteration": opt, "optimisation_tokens_per_iteration": opt_tokens,
            "heldout_calls": heldout, "cache_hits": summary["llm"]["cache_hits"]}


def original_accounting(run_dir: Path) -> dict:
    """The notebook's cost for the prompts this run proposed: every pool prompt re-scored on all train items
    each iteration, plus one generator call; tokens at this run's measured averages."""
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        n_train = con.execute("select count(*) from items_train").fetchone()[0]
        n_initial = con.execute("select count(*) from prompts_initial").fetchone()[0]
        pool_sizes = [n for (n,) in con.execute("select count(*) from pool group by iteration order by iteration")
                      .fetchall()]
        per_call = dict(con.execute(
            "select role, avg(prompt_tokens + completion_tokens) from llm_calls where attempt > 0 "
            "group by role").fetchall())
    evaluator_calls = [n_initial * n_train] + [size * n_train for size in pool_sizes]
    generator_calls = [0] + [1] * len(pool_sizes)
    calls = [e + g for e, g in zip(evaluator_calls, generator_calls, strict=True)]
    tokens = [round(e * per_call["evaluator"] + g * per_call.get("generator", 0))
              for e, g in zip(evaluator_calls, generator_calls, strict=True)]
    return {"optimisation_calls_per_iteration": calls, "optimisation_tokens_per_iteration": tokens}


def per_point(calls: int, gain: float) -> float | None:
    return round(calls / (100 * gain), 2) if gain > 0 else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prompt_opt_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--proposals", type=int, default=4)
    args = parser.parse_args(argv)
    common = [f"prompt_opt.rounds={args.rounds}", "llm.progress=false"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        summary, run_dir = run_prompt_opt(Path(tmp) / "ours", *common, f"prompt_opt.proposals={args.proposals}")
        per_iteration = sent_per_iteration(run_dir)
        outcome = {k: summary["prompt_opt"][k] for k in ("heldout_gain", "iterations_run")}
        results["ours"] = ours_summary(summary, per_iteration) | outcome
        # the notebook ran a fixed number of iterations: no early stop
        summary, run_dir = run_prompt_opt(Path(tmp) / "original", *common, "prompt_opt.proposals=1",
                                          f"prompt_opt.patience={args.rounds}",
                                          "+roles.evaluator.cache=off", "+roles.generator.cache=off")
        results["original"] = original_accounting(run_dir) | {
            k: summary["prompt_opt"][k] for k in ("heldout_gain", "iterations_run")}
    print(f"{'iteration':>9}  {'ours calls':>10}  {'ours tokens':>11}  {'original calls':>14}  {'original tokens':>15}")
    ours, orig = results["ours"], results["original"]
    for e in range(max(len(ours["optimisation_calls_per_iteration"]), len(orig["optimisation_calls_per_iteration"]))):
        cells = [(r["optimisation_calls_per_iteration"][e], r["optimisation_tokens_per_iteration"][e])
                 if e < len(r["optimisation_calls_per_iteration"]) else ("-", "-") for r in (ours, orig)]
        label = e - 1 if e else "initial"  # the first entry is the initial prompts' scoring
        print(f"{label:>9}  {cells[0][0]:>10}  {cells[0][1]:>11}  {cells[1][0]:>14}  {cells[1][1]:>15}")
    for name, r in results.items():
        r["optimisation_calls"] = sum(r["optimisation_calls_per_iteration"])
        r["optimisation_tokens"] = sum(r["optimisation_tokens_per_iteration"])
        r["calls_per_heldout_point"] = per_point(r["optimisation_calls"], r["heldout_gain"])
        print(f"{name}: {r['optimisation_calls']} optimisation calls, {r['optimisation_tokens']} tokens, "
              f"held-out gain {r['heldout_gain']:+.2f} over {r['iterations_run']} iterations")
    a, b = ours["calls_per_heldout_point"], orig["calls_per_heldout_point"]
    print(json.dumps({"benchmark": "prompt_opt_cost", "rounds": args.rounds, "proposals": args.proposals,
                      "ours": {k: v for k, v in ours.items() if not k.endswith("_per_iteration")},
                      "original": {k: v for k, v in orig.items() if not k.endswith("_per_iteration")},
                      "calls_ratio_original_over_ours":
                          round(orig["optimisation_calls"] / ours["optimisation_calls"], 2),
                      "calls_per_point_ratio_original_over_ours": round(b / a, 2) if a and b else None}))


if __name__ == "__main__":
    main()
