"""One row per reported prompt: held-out accuracy, compliance and cross-entropy of the prompt chosen on train and of
the best initial prompt (`picked_as` says which: chosen, initial_best). `prompt_iteration` is the loop iteration
that proposed the prompt (null: an initial prompt)."""

from __future__ import annotations

from typing import Literal, TypedDict

from helpers.prompt_opt.evaluation import prompt_scores
from stages.prompt_opt.heldout_answers import heldout_picks

_CARRIED = ("id", "prompt", "prompt_iteration", "origin", "train_accuracy", "train_compliance",
            "train_cross_entropy")


class HeldoutScoredPrompt(TypedDict):
    parent_ids: list[str]  # the prompt's row
    prompt_id: str
    prompt: str
    prompt_iteration: int | None
    origin: Literal["initial", "generated"]
    train_accuracy: float
    train_compliance: float
    train_cross_entropy: float | None
    heldout_n: int
    heldout_correct: int
    heldout_accuracy: float
    heldout_compliance: float
    heldout_cross_entropy: float | None
    heldout_ce_missing: int
    heldout_unanswered: int
    heldout_ce_source: str | None
    picked_as: list[str]  # chosen, initial_best


def heldout_scored(prompts_ranked: list[dict], heldout_answers: list[dict],
                   items_heldout: list[dict]) -> list[HeldoutScoredPrompt]:
    picks = heldout_picks(prompts_ranked)
    prompts = [{k: row[k] for k in _CARRIED} for row, _ in picks.values()]
    scored = prompt_scores(prompts, heldout_answers, items_heldout, "heldout")
    return [{**{k: v for k, v in s.items() if k not in ("id", "heldout_results")},
             "prompt_id": s["id"], "picked_as": picks[s["id"]][1], "parent_ids": [s["id"]]} for s in scored]
