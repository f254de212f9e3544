"""One row per (validation item, version 0): the seed library measured on validation (see scoring.py)."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.scoring import Evaluation, evaluate_version, validation_items
from helpers.principle_examples.teaching import TeacherParams


def evaluation_seed(library_seed: list[dict], items: list[dict], params: TeacherParams,
                    ctx: Context) -> list[Evaluation | Rejected]:
    return evaluate_version(0, library_seed, validation_items(items), params, ctx)
