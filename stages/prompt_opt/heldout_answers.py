"""One row per (reported prompt, held-out item): the evaluator's answer under the prompt chosen on train (rank 1 of
prompts_ranked) and under the best initial prompt, the baseline its gain is measured against. Read once, after
the rounds: no other prompt is measured on held-out, so no held-out figure exists that could choose."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows
from stages.prompt_opt.answers_initial import Answer


def heldout_picks(prompts_ranked: list[dict]) -> dict[str, tuple[dict, list[str]]]:
    """prompt id -> (prompt row, what it was picked as): chosen, initial_best (one row when they are one prompt)."""
    picks: dict[str, tuple[dict, list[str]]] = {}
    initial = [p for p in prompts_ranked if p["origin"] == "initial"]
    for role, rows in (("chosen", prompts_ranked), ("initial_best", initial)):
        if rows:
            best = min(rows, key=lambda p: p["train_rank"])
            picks.setdefault(best["id"], (best, []))[1].append(role)
    return picks


def heldout_answers(prompts_ranked: list[dict], items_heldout: list[dict], params: EvaluatorParams,
                    ctx: Context) -> list[Answer | Rejected]:
    picks = heldout_picks(prompts_ranked)
    return answer_rows([row for row, _ in picks.values()], items_heldout, params, ctx,
                       desc="the chosen and the best initial prompt on held-out")
