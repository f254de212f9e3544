"""One row per initial prompt with its train accuracy, strict compliance and cross-entropy."""

from __future__ import annotations

from typing import TypedDict

from helpers.prompt_opt.evaluation import prompt_scores
from stages.prompt_opt.prompts_initial import Prompt


class ItemResult(TypedDict):
    """One item's outcome under a prompt, as the meta prompt shows it."""

    item_id: str
    answer: str
    letter: str | None
    cross_entropy: float | None


class TrainScoredPrompt(Prompt):
    """A prompt with its scores on the train split (the rows of prompts_initial_scored, candidates_scored and
    pool). Its id is the prompt's own: the same row, scored."""

    train_n: int
    train_correct: int
    train_accuracy: float
    train_compliance: float
    train_cross_entropy: float | None  # the mean over the items with one; null when none has
    train_ce_missing: int
    train_unanswered: int
    train_ce_source: str | None
    train_results: list[ItemResult]


def prompts_initial_scored(prompts_initial: list[dict], answers_initial: list[dict],
                           items_train: list[dict]) -> list[TrainScoredPrompt]:
    return prompt_scores(prompts_initial, answers_initial, items_train, "train")
