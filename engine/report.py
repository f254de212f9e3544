"""The end of a run: summary.json, the funnel printed as a table, the funnel as a PNG, and the experiment's
own report (filter quality, curves) when it declares one."""

from __future__ import annotations

import inspect
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.run_env import RunEnv

log = logging.getLogger("engine")
LLM_KEYS = ("calls", "cache_hits", "retries", "failures", "prompt_tokens", "completion_tokens", "cost_usd",
            "unknown_cost", "in_flight_at_kill", "retried_failures", "healed")
SANDBOX_KEYS = ("executions", "timeouts", "memory", "forbidden", "errors")


def llm_section(ledger_rows: list[dict]) -> dict:
    if not ledger_rows:
        return dict.fromkeys(LLM_KEYS, 0) | {"cost_usd": 0.0}
    from engine.llm.ledger import summarize

    return summarize(ledger_rows)


def finish_report(name: str, status: str, error: str | None, env: RunEnv | None, run_dir: Path,
                  seconds: float) -> dict:
    summary = {
        "experiment": name,
        "status": status,
        "error": error,
        "stages": env.stage_stats if env else {},
        "llm": llm_section(env.ledger_all if env else []) | (
            {"recovered_from_killed_run": env.recovered_calls} if env and env.recovered_calls else {}),
        "sandbox": {k: (env.sandbox_totals.get(k, 0) if env else 0) for k in SANDBOX_KEYS},
        "seconds": round(seconds, 3),
    }
    if env is not None and env.iterations:
        summary["loops"] = {loop: {"iterations": n} for loop, n in env.iterations.items()}
    if env is not None and status == "ok" and env.config.report:
        summary.update(experiment_report(env, run_dir))
    if env is not None and status == "ok":
        dataset_card(env, summary, run_dir)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(funnel_table(summary), file=sys.stderr)
    if summary["stages"]:
        plot_funnel(summary["stages"], run_dir / "plots" / "funnel.png", name)
    return summary


def experiment_report(env: RunEnv, run_dir: Path) -> dict:
    """The experiment's `report` callable reads the finished tables and returns extra summary sections."""
    from engine.graph import import_callable

    func = import_callable(env.config.report, "report")
    kwargs = {"config": env.config.model_dump()} if "config" in inspect.signature(func).parameters else {}
    with env.rundb.connect() as con:
        try:
            extra = func(con=con, run_dir=run_dir, **kwargs)
        except Exception as e:  # a broken report must not hide the finished run
            log.exception("report %s failed", env.config.report)
            return {"report_error": f"{type(e).__name__}: {e}"}
    clash = set(extra) & {"experiment", "status", "error", "stages", "llm", "sandbox"}
    if clash:
        return {"report_error": f"report returned reserved keys {sorted(clash)}"}
    return extra


def dataset_card(env: RunEnv, summary: dict, run_dir: Path) -> None:
    """exports/hf/README.md when a stage wrote a Hugging Face dataset (engine.dataset_card)."""
    from engine.dataset_card import write_card
    from engine.run_env import role_config

    roles = {role: role_config(env.config, role) for role in env.config.roles}
    try:
        write_card(run_dir, summary, env.config, roles)
    except Exception as e:  # a broken card must not hide the finished run
        log.exception("the dataset card could not be written")
        summary["card_error"] = f"{type(e).__name__}: {e}"


def funnel_table(summary: dict) -> str:
    header = ("stage", "in", "out", "rejected", "reused", "seconds")
    rows = []
    for name, s in summary["stages"].items():
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(s["rejected"].items(), key=lambda x: -x[1])[:4])
        rows.append((name, str(s["rows_in"]), str(s["rows_out"]), reasons or "-", reuse_cell(s),
                     f"{s['seconds']:.2f}"))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    widths[3] = min(widths[3], 60)

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            c = c if len(c) <= w else c[: w - 1] + "…"
            out.append(c.rjust(w) if i in (1, 2, 5) else c.ljust(w))
        return "  ".join(out)

    llm, sb = summary["llm"], summary["sandbox"]
    status = summary["status"] + (f" ({summary['error']})" if summary["error"] else "")
    lines = [f"== {summary['experiment']}: {status}",
             line(header), line(["-" * w for w in widths]), *(line(r) for r in rows),
             f"llm: {llm['calls']} calls, {llm['cache_hits']} cached, {llm['failures']} failed, "
             f"${llm['cost_usd']:.4f}   sandbox: {sb['executions']} executions, {sb['timeouts']} timeouts"]
    if llm.get("retried_failures"):
        lines.append(f"healed: {llm['healed']} of {llm['retried_failures']} requests that had failed before")
    if any(s.get("failed_calls") for s in summary["stages"].values()):
        lines.append("incomplete stages (model requests failed): rerun the same command to retry only those")
    return "\n".join(lines)


def reuse_cell(stage: dict) -> str:
    """'yes' for a reused stage; for a computed one, what it left failed or healed (the rerun's business)."""
    if stage["reused"]:
        return "yes"
    notes = [f"{stage[k]} {word}" for k, word in (("failed_calls", "failed"), ("healed_calls", "healed"))
             if stage.get(k)]
    return ", ".join(notes)


def plot_funnel(stages: dict, path: Path, title: str) -> None:
    from matplotlib.figure import Figure  # not pyplot: no GUI backend, and a third less import time

    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(stages)[::-1]
    kept = [stages[n]["rows_out"] for n in names]
    rejected = [sum(stages[n]["rejected"].values()) for n in names]
    fig = Figure(figsize=(8, 0.4 * len(names) + 1.2))
    ax = fig.subplots()
    ax.barh(names, kept, color="#3b7dd8", label="kept")
    ax.barh(names, rejected, left=kept, color="#e0a040", label="rejected")
    # row counts span orders of magnitude (a cross-validation matrix beside a handful of seeds): log scale
    ax.set_xscale("symlog", linthresh=1)
    for y, (k, r) in enumerate(zip(kept, rejected, strict=True)):
        ax.text(max(k + r, 1) * 1.15, y, f"{k:,}" + (f" (-{r:,})" if r else ""), va="center", fontsize=7)
    ax.set_xlim(0, max(max(kept), 1) * 30)
    ax.set_xlabel("rows (log scale); in brackets: rejected")
    ax.set_title(f"{title}: rows per stage")
    ax.legend(loc="lower right")
    # margins from the longest stage name rather than tight_layout, which measures every label (most of the
    # time of a run in which every stage was reused)
    fig.subplots_adjust(left=min(0.5, 0.04 + 0.0115 * max(len(n) for n in names)), right=0.97, top=0.94,
                        bottom=0.9 / (0.4 * len(names) + 1.2))
    fig.savefig(path, dpi=110)
