"""One row per (candidate prompt of this iteration, train item): the evaluator's answer, letter and cross-entropy."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows
from stages.prompt_opt.answers_initial import Answer


def answers(candidates: list[dict], items_train: list[dict], params: EvaluatorParams,
            ctx: Context) -> list[Answer | Rejected]:
    return answer_rows(candidates, items_train, params, ctx, desc=f"iteration {ctx.iteration} candidates on train")
