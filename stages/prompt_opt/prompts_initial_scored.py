"""One row per initial prompt with its train accuracy, strict compliance and cross-entropy."""

from __future__ import annotations

from helpers.prompt_opt.evaluation import prompt_scores


def prompts_initial_scored(prompts_initial: list[dict], answers_initial: list[dict],
                           items_train: list[dict]) -> list[dict]:
    return prompt_scores(prompts_initial, answers_initial, items_train, "train")
