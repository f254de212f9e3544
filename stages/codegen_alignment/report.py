"""The experiment's report: alignment@K, precision and false alignment against rounds, the trivial-test
rate, pass@1 per selection strategy, cost per aligned task, a breakdown by generator, and a PNG.

Precision is the chance that a task's first aligned function passes the hidden ground truth (a uniform pick
among the functions aligned in its first aligned round); the false-alignment rate is its complement.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

REPORTED_K = (1, 10, 100)

# one row per task: the round it first aligned in (null: never) and its first aligned function's precision
TASK_OUTCOMES = """
with first_alignments as (select * from alignment where aligned_now),
picks as (
    select distinct task_id, iteration, unnest(aligned_func_ids) as func_id from first_alignments
),
picked_truth as (
    select p.task_id, min(p.iteration) as aligned_round, avg(s.gt_passed::double) as precision
    from picks as p join functions_scored as s on s.func_id = p.func_id
    group by p.task_id
)
select t.task_id, o.aligned_round, o.precision
from tasks as t left join picked_truth as o on o.task_id = t.task_id
"""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def alignment_curve(outcomes: list[dict], rounds: int) -> list[dict]:
    """alignment@K and precision@K for K = 1..rounds."""
    n = len(outcomes)
    curve = []
    for k in range(1, rounds + 1):
        aligned = [o for o in outcomes if o["aligned_round"] is not None and o["aligned_round"] < k]
        precision = sum(o["precision"] for o in aligned) / len(aligned) if aligned else None
        curve.append({"k": k, "alignment": len(aligned) / n if n else 0.0, "precision": precision,
                      "false_alignment": None if precision is None else 1 - precision})
    return curve


def test_quality(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict:
    kept = con.execute("select count(*), count(*) filter (where not nontrivial), sum(n_asserts), "
                       "sum(list_count(list_filter(trivial, x -> x))) from test_sets").fetchone()
    no_asserts = 0
    if "test_sets__rejected" in tables:
        no_asserts = con.execute("select count(*) from test_sets__rejected where reason = 'no_asserts'").fetchone()[0]
    sets, trivial_sets, asserts, trivial_asserts = (v or 0 for v in kept)
    return {"test_sets": sets, "trivial_test_rate": trivial_sets / sets if sets else None,
            "trivial_assert_rate": trivial_asserts / asserts if asserts else None,
            "no_assert_rate": no_asserts / (sets + no_asserts) if sets + no_asserts else None}


def cost(con: duckdb.DuckDBPyConnection, tables: set[str], aligned: int) -> dict:
    spent = {"cost_usd": 0.0, "calls": 0, "tokens": 0}
    if "llm_calls" in tables:
        usd, calls, tokens = con.execute("select sum(cost_usd), count(*) filter (where attempt > 0), "
                                         "sum(prompt_tokens + completion_tokens) from llm_calls").fetchone()
        spent = {"cost_usd": usd or 0.0, "calls": calls or 0, "tokens": tokens or 0}
    return {**spent, **{f"{k}_per_aligned_task": (v / aligned if aligned else None) for k, v in spent.items()}}


def plot(curve: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    ks = [c["k"] for c in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ks, [c["alignment"] for c in curve], marker=".", label="alignment@K (share of tasks)")
    ax.plot(ks, [c["precision"] if c["precision"] is not None else float("nan") for c in curve], marker=".",
            label="precision@K (aligned and right)")
    ax.set_xlabel("rounds K")
    ax.set_ylim(0, 1.02)
    if len(ks) > 20:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("code/test co-generation: alignment and precision against rounds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(con: duckdb.DuckDBPyConnection, run_dir: Path) -> dict:
    tables = _tables(con)
    outcomes = _rows(con, TASK_OUTCOMES)
    rounds = con.execute("select coalesce(max(iteration) + 1, 0) from alignment").fetchone()[0]
    curve = alignment_curve(outcomes, rounds)
    aligned = sum(o["aligned_round"] is not None for o in outcomes)
    at_k = {str(c["k"]): c for c in curve if c["k"] in REPORTED_K or c["k"] == rounds}
    plot(curve, run_dir / "plots" / "alignment_precision.png")
    return {"codegen_alignment": {
        "tasks": len(outcomes),
        "rounds": rounds,
        "aligned_tasks": aligned,
        "alignment_at": {k: c["alignment"] for k, c in at_k.items()},
        "precision_at": {k: c["precision"] for k, c in at_k.items()},
        "false_alignment_at": {k: c["false_alignment"] for k, c in at_k.items()},
        "curve": curve,
        "tests": test_quality(con, tables),
        "pass_at_1": {r["strategy"]: r["pass_at_1"] for r in _rows(con, "select * from strategy_scores")},
        "fallback_rate": {r["strategy"]: r["fallback_rate"] for r in _rows(con, "select * from strategy_scores")},
        "by_generator": _rows(con, "select side, generator, n_generated, tasks_aligned, alignment_rate, "
                                   "aligned_pairs, precision from generator_scores"),
        "cost": cost(con, tables, aligned),
    }}
