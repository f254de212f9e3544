"""One row per task of the configured set, with its hidden reference program and ground truth."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.rows import Rejected
from stages.codegen_alignment.programs import docstring_asserts
from stages.codegen_alignment.task_sources import load_tasks


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: Literal["humaneval", "mbpp", "gsm8k", "builtin"] = "humaneval"
    dataset_path: str | None = None  # mbpp / gsm8k: the user's JSONL copy
    task_limit: int | None = Field(None, ge=1)  # the first n tasks
    task_ids: list[str] = []  # only these tasks (before task_limit)


def tasks_loaded(params: Params) -> list[dict | Rejected]:
    tasks = load_tasks(params.dataset, params.dataset_path)
    if params.task_ids:
        wanted = set(params.task_ids)
        tasks = [t for t in tasks if t["task_id"] in wanted]
    out: list[dict | Rejected] = []
    for task in tasks[: params.task_limit]:
        row = {**task, "docstring_asserts": docstring_asserts(task["prompt"], task["entry_point"]), "parent_ids": []}
        if f"def {task['entry_point']}" not in task["prompt"]:
            out.append(Rejected(row, "entry_point_not_in_prompt", f"no 'def {task['entry_point']}' in the prompt"))
        else:
            out.append(row)
    return out
