"""One row per function: whether it passes its task's hidden ground truth (check(), or a program's hidden
tests; used to score, never to choose)."""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from helpers.codegen_alignment.programs import ground_truth_outcomes


class ScoredFunction(TypedDict):
    parent_ids: list[str]
    function_id: str
    task_id: str
    generator: str
    gt_status: str  # the sandbox's status on the hidden ground truth
    gt_passed: bool
    gt_message: str


def functions_scored(functions: list[dict], tasks_checked: list[dict], ctx: Context) -> list[ScoredFunction]:
    return [{"parent_ids": [f["id"]], "function_id": f["id"], "task_id": f["task_id"], "generator": f["generator"],
             "gt_status": o.status, "gt_passed": o.status == "ok" and o.value is True, "gt_message": o.message}
            for f, o in zip(functions, ground_truth_outcomes(functions, tasks_checked, "program", ctx), strict=True)]
