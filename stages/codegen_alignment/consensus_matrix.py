"""One row per function: the function run on every non-trivial test case generated for its task in the run."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.rows import Rejected
from stages.codegen_alignment.executions import FunctionRun, run_cases


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    float_tolerance: float | None = Field(None, ge=0)  # program tasks: numbers in outputs match within this


def nontrivial_cases(test_sets: list[dict]) -> list[dict]:
    """The test sets with their trivial asserts taken out (they agree with every function, so they carry no
    consensus), each assert once per set."""
    out = []
    for s in test_sets:
        keep = dict.fromkeys((cid, text) for cid, text, trivial in zip(s["case_ids"], s["asserts"], s["trivial"],
                                                                      strict=True) if not trivial)
        out.append({**s, "case_ids": [c for c, _ in keep], "asserts": [t for _, t in keep]})
    return out


def consensus_matrix(tasks: list[dict], functions: list[dict], test_sets: list[dict], params: Params,
                     ctx: Context) -> list[FunctionRun | Rejected]:
    functions_by_task: dict[str, list[dict]] = defaultdict(list)
    tests: dict[str, list[dict]] = defaultdict(list)
    for f in functions:
        functions_by_task[f["task_id"]].append(f)
    for s in nontrivial_cases(test_sets):
        tests[s["task_id"]].append(s)
    return run_cases(functions_by_task, tests, tasks, params.float_tolerance, ctx)
