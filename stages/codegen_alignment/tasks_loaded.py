"""One row per task of the configured set, with its hidden reference program and ground truth."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.rows import Rejected
from stages.codegen_alignment.io_cases import case_text
from stages.codegen_alignment.programs import docstring_asserts
from stages.codegen_alignment.task_sources import load_tasks


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: Literal["humaneval", "mbpp", "gsm8k", "builtin", "codecontests"] = "humaneval"
    dataset_path: str | None = None  # mbpp / gsm8k: the user's JSONL copy; codecontests: JSONL or Parquet
    task_limit: int | None = Field(None, ge=1)  # the first n tasks
    task_ids: list[str] = []  # only these tasks (before task_limit)


def tasks_loaded(params: Params) -> list[dict | Rejected]:
    tasks = load_tasks(params.dataset, params.dataset_path)
    if params.task_ids:
        wanted = set(params.task_ids)
        tasks = [t for t in tasks if t["task_id"] in wanted]
    out: list[dict | Rejected] = []
    for task in tasks[: params.task_limit]:
        row = {**task, "docstring_asserts": known_good_cases(task), "parent_ids": []}
        if task["kind"] == "program":
            if not task["reference"]:
                out.append(Rejected(row, "no_reference_solution", "no Python 3 solution in the record"))
            else:
                out.append(row)
        elif f"def {task['entry_point']}" not in task["prompt"]:
            out.append(Rejected(row, "entry_point_not_in_prompt", f"no 'def {task['entry_point']}' in the prompt"))
        else:
            out.append(row)
    return out


def known_good_cases(task: dict) -> list[str]:
    """The cases the statement itself gives (known_good=docstring_tests): a function's docstring examples as asserts,
    a program task's public examples as input/output cases."""
    if task["kind"] == "program":
        return [case_text(t["input"], t["output"]) for t in task["public_tests"]]
    return docstring_asserts(task["prompt"], task["entry_point"])
