"""The experiment's report: alignment@K, precision and false alignment against rounds, the trivial-test
rate, pass@1 per selection strategy, cost per aligned task, a breakdown by generator, how often generated test
sets are correct (they pass on the task's reference solution), and a PNG.

Precision is the chance that a task's first aligned function passes the hidden ground truth (a uniform pick
among the functions aligned in its first aligned round); the false-alignment rate is its complement.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from engine.query_rows import query_rows

REPORTED_K = (1, 10, 100)

# one row per task: the round it first aligned in (null: never) and its first aligned function's precision
TASK_OUTCOMES = """
with first_alignments as (select * from alignment where aligned_now),
picks as (
    select distinct task_id, iteration, unnest(aligned_function_ids) as function_id from first_alignments
),
picked_truth as (
    select p.task_id, min(p.iteration) as aligned_round, avg(s.gt_passed::double) as precision
    from picks as p join functions_scored as s on s.function_id = p.function_id
    group by p.task_id
)
select t.task_id, o.aligned_round, o.precision
from tasks as t left join picked_truth as o on o.task_id = t.task_id
"""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}


# with a reference solution as the only function, the figures about functions say nothing
BY_CONSTRUCTION = (
    "known_good=reference_function: each task's only function is its reference solution, which passes the ground "
    "truth, so precision is 1, false alignment 0 and every strategy's pass@1 1 by construction: they are null here. "
    "A task aligns when some generated non-trivial test set passes on the reference; test_generation says how often "
    "generated test sets are correct and how many are trivial, per test generator.")

# per round: test sets generated that round, the non-trivial ones, and those of them passing the reference
TESTS_BY_ROUND = """
select round, count(*) filter (where nontrivial) as nontrivial,
       count(*) filter (where nontrivial and passes_reference) as nontrivial_correct
from test_sets_scored group by round
"""


def alignment_curve(outcomes: list[dict], rounds: int, tests_by_round: list[dict]) -> list[dict]:
    """alignment@K, precision@K and tests_correct@K (the share of non-trivial test sets generated within K rounds
    that pass the reference) for K = 1..rounds."""
    n = len(outcomes)
    curve = []
    for k in range(1, rounds + 1):
        aligned = [o for o in outcomes if o["aligned_round"] is not None and o["aligned_round"] < k]
        precision = sum(o["precision"] for o in aligned) / len(aligned) if aligned else None
        tests = [r for r in tests_by_round if r["round"] < k]
        nontrivial, correct = sum(r["nontrivial"] for r in tests), sum(r["nontrivial_correct"] for r in tests)
        curve.append({"k": k, "alignment": len(aligned) / n if n else 0.0, "precision": precision,
                      "false_alignment": None if precision is None else 1 - precision,
                      "tests_correct": correct / nontrivial if nontrivial else None})
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


def test_generation(con: duckdb.DuckDBPyConnection) -> dict:
    """Test sets scored on the reference: overall and per test generator."""
    cursor = con.execute("select count(*) as test_sets, avg((not nontrivial)::int) as trivial_test_rate, "
                         "avg(passes_reference::int) as correct_rate, "
                         "avg(passes_reference::int) filter (where nontrivial) as nontrivial_correct_rate, "
                         "sum(n_passed) / nullif(sum(n_asserts), 0) as assert_correct_rate from test_sets_scored")
    overall = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    return {**overall, "by_generator": query_rows(con, "select generator, n_test_sets, trivial_rate, correct_rate, "
                                                "nontrivial_correct_rate, assert_correct_rate, n_not_finished "
                                                "from test_generator_scores")}


def cost(con: duckdb.DuckDBPyConnection, tables: set[str], aligned: int) -> dict:
    spent = {"cost_usd": 0.0, "calls": 0, "tokens": 0}
    if "llm_calls" in tables:
        usd, calls, tokens = con.execute("select sum(cost_usd), count(*) filter (where attempt > 0), "
                                         "sum(prompt_tokens + completion_tokens) from llm_calls").fetchone()
        spent = {"cost_usd": usd or 0.0, "calls": calls or 0, "tokens": tokens or 0}
    return {**spent, **{f"{k}_per_aligned_task": (v / aligned if aligned else None) for k, v in spent.items()}}


def plot(curve: list[dict], path: Path, reference_function: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path.parent.mkdir(parents=True, exist_ok=True)
    ks = [c["k"] for c in curve]
    fig, ax = plt.subplots(figsize=(6, 4))

    def values(key: str) -> list[float]:
        return [c[key] if c[key] is not None else float("nan") for c in curve]

    ax.plot(ks, values("alignment"), marker=".", label="alignment@K (share of tasks)")
    if not reference_function:  # 1 by construction there
        ax.plot(ks, values("precision"), marker=".", label="precision@K (aligned and right)")
    ax.plot(ks, values("tests_correct"), marker=".", linestyle="--",
            label="non-trivial test sets of rounds <= K passing the reference")
    ax.set_xlabel("rounds K")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole numbers
    ax.set_ylim(0, 1.02)
    if len(ks) > 20:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("test generation against the reference function" if reference_function
                 else "code/test co-generation: alignment and precision against rounds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(con: duckdb.DuckDBPyConnection, run_dir: Path, config: dict) -> dict:
    known_good = config.get("codegen_alignment", {}).get("known_good", "none")
    reference_function = known_good == "reference_function"
    tables = _tables(con)
    outcomes = query_rows(con, TASK_OUTCOMES)
    rounds = con.execute("select coalesce(max(iteration) + 1, 0) from alignment").fetchone()[0]
    curve = alignment_curve(outcomes, rounds, query_rows(con, TESTS_BY_ROUND))
    if reference_function:
        curve = [c | {"precision": None, "false_alignment": None} for c in curve]
    aligned = sum(o["aligned_round"] is not None for o in outcomes)
    at_k = {str(c["k"]): c for c in curve if c["k"] in REPORTED_K or c["k"] == rounds}
    plot(curve, run_dir / "plots" / "alignment_precision.png", reference_function)
    strategies = query_rows(con, "select * from strategy_scores")
    by_generator = query_rows(con, "select side, generator, role, prompt, n_generated, tasks_aligned, "
                                   "alignment_rate, aligned_pairs, precision from generator_scores")
    section = {
        "known_good": known_good,
        "tasks": len(outcomes),
        "rounds": rounds,
        "aligned_tasks": aligned,
        "alignment_at": {k: c["alignment"] for k, c in at_k.items()},
        "precision_at": {k: c["precision"] for k, c in at_k.items()},
        "false_alignment_at": {k: c["false_alignment"] for k, c in at_k.items()},
        "tests_correct_at": {k: c["tests_correct"] for k, c in at_k.items()},
        "curve": curve,
        "tests": test_quality(con, tables),
        "test_generation": test_generation(con),
        "pass_at_1": {r["strategy"]: None if reference_function else r["pass_at_1"] for r in strategies},
        "fallback_rate": {r["strategy"]: r["fallback_rate"] for r in strategies},
        "by_generator": [g | {"precision": None} if reference_function else g for g in by_generator],
        "cost": cost(con, tables, aligned),
    }
    if reference_function:
        section["by_construction"] = BY_CONSTRUCTION
    return {"codegen_alignment": section}
