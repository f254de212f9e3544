"""One row per (epoch, reported prompt): held-out accuracy, compliance and cross-entropy of the best prompt so
far, of the epoch's best candidate and, at epoch 1, of the best initial prompt (`picked_as` says which)."""

from __future__ import annotations

from engine.context import Context
from helpers.prompt_opt.evaluation import prompt_scores
from stages.prompt_opt.heldout_answers import heldout_picks

_CARRIED = ("id", "prompt", "epoch", "origin", "train_accuracy", "train_compliance", "train_cross_entropy")


def heldout_scored(pool: list[dict], pool_prev: list[dict], candidates_scored: list[dict],
                   heldout_answers: list[dict], items_heldout: list[dict], ctx: Context) -> list[dict]:
    picks = heldout_picks(pool, pool_prev, candidates_scored, ctx.iteration)
    prompts = [{k: row[k] for k in _CARRIED} for row, _ in picks.values()]
    scored = prompt_scores(prompts, heldout_answers, items_heldout, "heldout")
    return [{**{k: v for k, v in s.items() if k not in ("id", "epoch", "heldout_results")},
             "prompt_id": s["id"], "prompt_epoch": s["epoch"], "epoch": ctx.iteration + 1,
             "picked_as": picks[s["id"]][1], "parent_ids": [s["id"]]} for s in scored]
