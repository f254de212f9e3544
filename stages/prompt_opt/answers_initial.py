"""One row per (initial prompt, train item): the evaluator's answer, its letter and cross-entropy."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows


def answers_initial(prompts_initial: list[dict], items_train: list[dict], params: EvaluatorParams,
                    ctx: Context) -> list[dict | Rejected]:
    return answer_rows(prompts_initial, items_train, params, ctx, desc="initial prompts on train")
