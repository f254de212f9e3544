"""One row per candidate prompt of this epoch with its train accuracy, strict compliance and cross-entropy."""

from __future__ import annotations

from helpers.prompt_opt.evaluation import prompt_scores


def candidates_scored(candidates: list[dict], answers: list[dict], items_train: list[dict]) -> list[dict]:
    return prompt_scores(candidates, answers, items_train, "train")
