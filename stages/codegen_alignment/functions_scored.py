"""One row per function: whether it passes its task's hidden ground truth (used to score, never to choose)."""

from __future__ import annotations

from engine.context import Context
from stages.codegen_alignment.programs import ground_truth_job


def functions_scored(functions: list[dict], tasks_checked: list[dict], ctx: Context) -> list[dict]:
    truth = {t["task_id"]: t for t in tasks_checked}
    jobs = [ground_truth_job(f["program"], truth[f["task_id"]]["ground_truth"], truth[f["task_id"]]["entry_point"])
            for f in functions]
    return [{"parent_ids": [f["id"]], "func_id": f["id"], "task_id": f["task_id"], "generator": f["generator"],
             "gt_status": o.status, "gt_passed": o.status == "ok" and o.value is True, "gt_message": o.message}
            for f, o in zip(functions, ctx.sandbox.run(jobs), strict=True)]
