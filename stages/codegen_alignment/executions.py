"""One row per (function, round): the function run on every test case in play for its task that round."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.rows import Rejected
from helpers.codegen_alignment.io_cases import run_programs_on_cases
from helpers.codegen_alignment.pairing import Pairing, in_play
from helpers.codegen_alignment.programs import cases_job


class FunctionRun(TypedDict):
    """A function run on its task's case pool (executions per round, consensus_matrix over the whole run)."""

    parent_ids: list[str]
    function_id: str
    task_id: str
    n_cases: int
    passed_case_ids: list[str]
    n_passed: int
    run_statuses: NotRequired[list[str]]  # program tasks: the sandbox status of each run


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pairing: Pairing = "round"
    float_tolerance: float | None = Field(None, ge=0)  # program tasks: numbers in outputs match within this


def case_pool(test_sets: list[dict]) -> tuple[list[str], list[str]]:
    """(case ids, assert texts) of the test sets, each case once, in first-seen order."""
    pool: dict[str, str] = {}
    for s in test_sets:
        pool.update((cid, text) for cid, text in zip(s["case_ids"], s["asserts"], strict=True) if cid not in pool)
    return list(pool), list(pool.values())


def run_on_cases(functions_by_task: dict[str, list[dict]], tests_by_task: dict[str, list[dict]],
                 ctx: Context) -> list[dict | Rejected]:
    """Each function on its task's case pool, one sandbox job each; a job that does not finish ok (hangs,
    runs out of memory, breaks the policy at run time) is rejected with that status."""
    planned = []
    for task_id, funcs in functions_by_task.items():
        case_ids, texts = case_pool(tests_by_task.get(task_id, []))
        planned += [(f, case_ids, cases_job(f["program"], texts)) for f in funcs if case_ids]
    outcomes = ctx.sandbox.run([job for _, _, job in planned], desc="execute")
    out: list[dict | Rejected] = []
    for (func, case_ids, _), outcome in zip(planned, outcomes, strict=True):
        row = {"parent_ids": [func["id"]], "function_id": func["id"], "task_id": func["task_id"],
               "n_cases": len(case_ids), "passed_case_ids": []}
        if outcome.status != "ok" or not isinstance(outcome.value, list) or len(outcome.value) != len(case_ids):
            out.append(Rejected(row, outcome.status if outcome.status != "ok" else "bad_result", outcome.message))
            continue
        passed = [cid for cid, ok in zip(case_ids, outcome.value, strict=True) if ok is True]
        out.append({**row, "passed_case_ids": passed, "n_passed": len(passed)})
    return out


def run_cases(functions_by_task: dict[str, list[dict]], tests_by_task: dict[str, list[dict]], tasks: list[dict],
              float_tolerance: float | None, ctx: Context) -> list[dict | Rejected]:
    """run_on_cases for function tasks, io_cases.run_programs_on_cases for program tasks."""
    programs = {t["task_id"]: t for t in tasks if t["kind"] == "program"}
    rows = run_on_cases({t: f for t, f in functions_by_task.items() if t not in programs}, tests_by_task, ctx)
    return rows + run_programs_on_cases({t: f for t, f in functions_by_task.items() if t in programs}, tests_by_task,
                                        programs, float_tolerance, ctx)


def executions(tasks: list[dict], functions: list[dict], functions_history: list[dict], test_sets: list[dict],
               test_sets_history: list[dict], alignment_prev: list[dict], params: Params,
               ctx: Context) -> list[FunctionRun | Rejected]:
    aligned = {row["task_id"] for row in alignment_prev if row["aligned"]}
    funcs = {t: rows for t, rows in in_play(functions, functions_history, params.pairing).items() if t not in aligned}
    return run_cases(funcs, in_play(test_sets, test_sets_history, params.pairing), tasks, params.float_tolerance, ctx)
