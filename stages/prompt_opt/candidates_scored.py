"""One row per candidate prompt of this iteration with its train accuracy, strict compliance and cross-entropy."""

from __future__ import annotations

from helpers.prompt_opt.evaluation import prompt_scores
from stages.prompt_opt.prompts_initial_scored import TrainScoredPrompt


def candidates_scored(candidates: list[dict], answers: list[dict], items_train: list[dict]) -> list[TrainScoredPrompt]:
    return prompt_scores(candidates, answers, items_train, "train")
