"""One row per (task, strategy): the functions a strategy would pick among, chosen without the ground truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from helpers.codegen_alignment.consensus import B4Priors, b4_groups, codet_groups, top_choice
from stages.codegen_alignment.consensus_matrix import nontrivial_cases

Strategy = Literal["random", "first_aligned", "codet", "codet_sqrt", "b4"]


class Selection(TypedDict):
    parent_ids: list[str]
    task_id: str
    strategy: str
    candidates: list[str]  # the function ids it would pick among
    fallback: bool  # nothing to go on: every function of the task
    score: float | None


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategies: list[Strategy] = Field(min_length=1)
    b4: B4Priors = B4Priors()


def first_aligned_candidates(rows: list[dict]) -> list[str]:
    """The functions of the aligned pairs in the task's first aligned round."""
    aligned = [r for r in rows if r["aligned_now"]]
    return list(dict.fromkeys(aligned[0]["aligned_function_ids"])) if aligned else []


def selections(tasks: list[dict], functions: list[dict], test_sets: list[dict], consensus_matrix: list[dict],
               alignment: list[dict], params: Params) -> list[Selection]:
    funcs_by_task: dict[str, list[str]] = defaultdict(list)
    for f in functions:
        funcs_by_task[f["task_id"]].append(f["id"])
    weights: dict[str, Counter] = defaultdict(Counter)  # CodeT counts a case once per test set proposing it
    for s in nontrivial_cases(test_sets):
        weights[s["task_id"]].update(set(s["case_ids"]))
    passed: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for row in consensus_matrix:
        passed[row["task_id"]][row["function_id"]] = row["passed_case_ids"]
    alignment_rows: dict[str, list[dict]] = defaultdict(list)
    for row in alignment:
        alignment_rows[row["task_id"]].append(row)
    out = []
    for task in tasks:
        task_id, everyone = task["task_id"], funcs_by_task.get(task["task_id"], [])
        for strategy in params.strategies:
            score = None
            if strategy == "random":
                candidates = everyone
            elif strategy == "first_aligned":
                candidates = first_aligned_candidates(alignment_rows[task_id])
            elif strategy == "b4":
                candidates, score = top_choice(b4_groups(passed[task_id], weights[task_id], params.b4))
            else:
                candidates, score = top_choice(codet_groups(passed[task_id], weights[task_id],
                                                            sqrt=strategy == "codet_sqrt"))
            # nothing to go on: pick any function, as CodeT falls back to a random sample
            fallback = not candidates
            out.append({"parent_ids": [task["id"]], "task_id": task_id, "strategy": strategy,
                        "candidates": candidates or everyone, "fallback": fallback, "score": score})
    return out
