"""One row per task whose reference program passes its own ground truth in the sandbox."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.codegen_alignment.programs import ground_truth_outcomes
from helpers.codegen_alignment.task_sources import Task


def tasks_checked(tasks_loaded: list[Task], ctx: Context) -> list[Task | Rejected]:
    out: list[Task | Rejected] = []
    for task, outcome in zip(tasks_loaded, ground_truth_outcomes(tasks_loaded, tasks_loaded, "reference", ctx),
                             strict=True):
        if outcome.status == "ok" and outcome.value is True:
            out.append(task)
        else:  # a task no function could pass, or one the sandbox cannot run (e.g. it imports random)
            out.append(Rejected(task, "ground_truth_fails_reference", f"{outcome.status}: {outcome.message}"))
    return out
