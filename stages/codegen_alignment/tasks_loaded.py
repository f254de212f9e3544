"""One row per task of the configured set, with its hidden reference program and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine.rows import Rejected
from helpers.codegen_alignment.docstring_examples import docstring_asserts
from helpers.codegen_alignment.io_cases import case_text
from helpers.codegen_alignment.task_sources import Task, load_tasks


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: Literal["humaneval", "mbpp", "gsm8k", "builtin", "codecontests"] = "humaneval"
    # mbpp / gsm8k: the user's JSONL copy; codecontests: JSONL or Parquet
    dataset_path: str | None = Field(None, validate_default=True)
    task_limit: int | None = Field(None, ge=1)  # the first n tasks
    task_ids: list[str] = []  # only these tasks (before task_limit)

    @field_validator("dataset_path")
    @classmethod
    def _user_datasets_have_their_file(cls, path: str | None, info: ValidationInfo) -> str | None:
        dataset = info.data.get("dataset")
        if dataset in ("mbpp", "gsm8k") and (path is None or not Path(path).is_file()):
            raise ValueError(f"dataset {dataset!r} needs your JSONL copy as a file here; point dataset_path at it, "
                             "or use dataset=builtin")
        return path


def tasks_loaded(params: Params) -> list[Task | Rejected]:
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
