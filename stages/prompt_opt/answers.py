"""One row per (candidate prompt of this epoch, train item): the evaluator's answer, letter and cross-entropy."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows


def answers(candidates: list[dict], items_train: list[dict], params: EvaluatorParams,
            ctx: Context) -> list[dict | Rejected]:
    return answer_rows(candidates, items_train, params, ctx, desc=f"epoch {ctx.iteration + 1} candidates on train")
