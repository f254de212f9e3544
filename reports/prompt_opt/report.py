"""The prompt_opt section of summary.json (the best prompt with its held-out accuracy and Wilson 95% interval,
the gain over the best initial prompt, where the cross-entropies came from) and plots/training_curve.png."""

from __future__ import annotations

from pathlib import Path

import duckdb

from engine.query_rows import query_rows
from helpers.common.stats import wilson_interval


def training_curve(prompts: list[dict], iterations: int, chosen: dict, initial: dict) -> list[dict]:
    """One point per number of loop iterations run: the train accuracy of that iteration's best candidate (at 0
    the best initial prompt) and of the best so far. Held-out accuracy only where it was measured, once: the best
    initial prompt at 0 and the chosen prompt at the end (no other prompt is measured on held-out)."""
    points = []
    for n in range(iterations + 1):
        new = [p["train_accuracy"] for p in prompts
               if (p["prompt_iteration"] is None if n == 0 else p["prompt_iteration"] == n - 1)]
        so_far = [p["train_accuracy"] for p in prompts if p["prompt_iteration"] is None or p["prompt_iteration"] < n]
        points.append({"iterations_run": n, "train_accuracy": max(new, default=None),
                       "heldout_accuracy": initial["heldout_accuracy"] if n == 0 else None,
                       "best_train_accuracy": max(so_far, default=None),
                       "best_heldout_accuracy": None})
    points[-1]["best_heldout_accuracy"] = chosen["heldout_accuracy"]
    return points


def plot_curve(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    runs = [p["iterations_run"] for p in points]
    for key, label, style in (("train_accuracy", "iteration's best: train", "o--"),
                              ("heldout_accuracy", "held-out: the best initial prompt", "s"),
                              ("best_train_accuracy", "best so far: train", "o-"),
                              ("best_heldout_accuracy", "held-out: the prompt chosen", "s")):
        xs = [n for n, p in zip(runs, points, strict=True) if p[key] is not None]
        ax.plot(xs, [p[key] for p in points if p[key] is not None], style, label=label)
    ax.set_xlabel("iterations run (0: the initial prompts)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole numbers
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("prompt optimisation: accuracy per iteration")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(con: duckdb.DuckDBPyConnection, run_dir: Path) -> dict:
    heldout = query_rows(con, "select * from heldout_scored order by prompt_id")
    prompts = query_rows(con, "select * from prompts_ranked order by train_rank")
    best = prompts[0]
    final = next(h for h in heldout if "chosen" in h["picked_as"])
    initial = next(h for h in heldout if "initial_best" in h["picked_as"])
    # per scoring of a prompt on a split; "sampled/top_logprobs" when a backend gave logprobs only sometimes
    sources = dict(con.execute(
        "select source, count(*) from (select train_ce_source as source from prompts_ranked union all "
        "select heldout_ce_source from heldout_scored) where source is not null group by 1").fetchall())
    # answers whose cross-entropy is unknown: no logprobs from the evaluator, or the letter not found in them
    missing = con.execute("select coalesce(sum(train_ce_missing), 0) from prompts_ranked").fetchone()[0] + \
        con.execute("select coalesce(sum(heldout_ce_missing), 0) from heldout_scored").fetchone()[0]
    iterations = con.execute("select coalesce(max(iteration) + 1, 0) from pool").fetchone()[0]
    points = training_curve(prompts, iterations, final, initial)
    plot_curve(points, run_dir / "plots" / "training_curve.png")
    section = {
        "best_prompt": best["prompt"],
        "best_prompt_iteration": best["prompt_iteration"],  # null: an initial prompt
        "train_accuracy": best["train_accuracy"],
        "heldout_accuracy": final["heldout_accuracy"],
        "heldout_n": final["heldout_n"],
        "heldout_ci95": list(wilson_interval(final["heldout_correct"], final["heldout_n"])),
        "heldout_compliance": final["heldout_compliance"],
        "initial_best_prompt": initial["prompt"],
        "initial_best_heldout_accuracy": initial["heldout_accuracy"],
        "heldout_gain": round(final["heldout_accuracy"] - initial["heldout_accuracy"], 6),
        "iterations_run": max(p["iterations_run"] for p in points),
        "prompts_scored": con.execute("select count(*) from prompts_ranked").fetchone()[0],
        "cross_entropy_from": {str(k): v for k, v in sources.items()},
        "cross_entropy_missing": int(missing),
        "curve": points,
    }
    if any("sampled" in str(source) for source in sources):
        section["note"] = ("logprobs: false: the cross-entropy comes from sampled answers "
                           "(evaluator.fallback_samples per item)")
    if any("no_logprobs" in str(source) for source in sources):
        section["cross_entropy_note"] = ("cross-entropy unavailable: the evaluator's backend returned no logprobs "
                                         "(transformers serve ignores them); prompts rank by accuracy alone, or set "
                                         "prompt_opt.evaluator.logprobs=false to estimate it from sampled answers")
    elif missing:
        section["cross_entropy_note"] = (f"{int(missing)} answers had no cross-entropy: their letter was not a "
                                         "token of the reply's logprobs; they are left out of the means")
    return {"prompt_opt": section}
