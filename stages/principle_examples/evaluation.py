"""One row per (item, version): the version this round froze, measured on validation and test (see scoring.py).
Round `iteration` freezes version `iteration + 1`."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from stages.principle_examples.scoring import Evaluation, evaluate_version
from stages.principle_examples.teaching import TeacherParams


def evaluation(library: list[dict], items: list[dict], params: TeacherParams,
               ctx: Context) -> list[Evaluation | Rejected]:
    return evaluate_version(ctx.iteration + 1, library, items, params, ctx)
