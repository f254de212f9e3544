"""One row per (task, round): whether some function passes every case of some non-trivial test set (the
round a task first aligned in is the one whose row has aligned_now)."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict

from helpers.codegen_alignment.consensus import TestSet, aligned_pairs
from helpers.codegen_alignment.pairing import Pairing, in_play


class Alignment(TypedDict):
    parent_ids: list[str]
    task_id: str
    aligned: bool  # by this round
    aligned_now: bool  # first in this round
    aligned_function_ids: list[str]  # pair k is (aligned_function_ids[k], aligned_test_set_ids[k])
    aligned_test_set_ids: list[str]
    n_functions: int
    n_test_sets: int
    n_nontrivial_test_sets: int


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pairing: Pairing = "round"


def alignment(tasks: list[dict], executions: list[dict], test_sets: list[dict], test_sets_history: list[dict],
              alignment_prev: list[dict], params: Params) -> list[Alignment]:
    before = {row["task_id"]: row for row in alignment_prev}
    tests = in_play(test_sets, test_sets_history, params.pairing)
    passed: dict[str, dict[str, list[str]]] = {}
    for row in executions:
        passed.setdefault(row["task_id"], {})[row["function_id"]] = row["passed_case_ids"]
    out = []
    for task in tasks:
        prev = before.get(task["task_id"])
        if prev is not None and prev["aligned"]:  # an aligned task keeps its first aligned round's pairs
            out.append({k: v for k, v in prev.items() if k not in ("id", "iteration")} | {"aligned_now": False})
            continue
        sets = [TestSet(s["id"], tuple(s["case_ids"]), s["nontrivial"]) for s in tests.get(task["task_id"], [])]
        pairs = aligned_pairs(passed.get(task["task_id"], {}), sets)
        out.append({"parent_ids": [task["id"]], "task_id": task["task_id"], "aligned": bool(pairs),
                    "aligned_now": bool(pairs),
                    # pair k is (aligned_function_ids[k], aligned_test_set_ids[k])
                    "aligned_function_ids": [f for f, _ in pairs], "aligned_test_set_ids": [s for _, s in pairs],
                    "n_functions": len(passed.get(task["task_id"], {})), "n_test_sets": len(sets),
                    "n_nontrivial_test_sets": sum(s.nontrivial for s in sets)})
    return out


def all_aligned(alignment: list[dict], iteration: int) -> bool:
    """The loop's stop condition: every task aligned by this round."""
    latest = [row for row in alignment if row["iteration"] == iteration]
    return bool(latest) and all(row["aligned"] for row in latest)
