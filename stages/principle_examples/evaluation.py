"""One row per (validation item, version): the version this round froze, measured on validation only (see
scoring.py); the test split is measured once, for the chosen version (chosen_version.py). Round `iteration`
freezes version `iteration + 1`."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.scoring import Evaluation, evaluate_version, validation_items
from helpers.principle_examples.teaching import TeacherParams


def evaluation(library: list[dict], items: list[dict], params: TeacherParams,
               ctx: Context) -> list[Evaluation | Rejected]:
    return evaluate_version(ctx.iteration + 1, library, validation_items(items), params, ctx)
