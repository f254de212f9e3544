"""One row per (initial prompt, train item): the evaluator's answer, its letter and cross-entropy."""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows


class Answer(TypedDict):
    """The evaluator's answer to one item under one prompt (the rows of answers_initial, answers and
    heldout_answers)."""

    prompt_id: str
    item_id: str
    answer: str  # the item's correct letter
    reply: str
    letter: str | None  # the letter the reply commits to
    correct: bool
    strict: bool  # the reply is exactly one letter
    cross_entropy: float | None  # of the correct letter; null where it cannot be known (ce_source says why)
    ce_source: str | None  # top_logprobs | sampled | no_logprobs | letter_not_in_logprobs
    llm_key: str
    simulated: bool
    parent_ids: list[str]  # the prompt and the item


def answers_initial(prompts_initial: list[dict], items_train: list[dict], params: EvaluatorParams,
                    ctx: Context) -> list[Answer | Rejected]:
    return answer_rows(prompts_initial, items_train, params, ctx, desc="initial prompts on train")
