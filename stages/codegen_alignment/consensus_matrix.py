"""One row per function: the function run on every non-trivial test case generated for its task in the run."""

from __future__ import annotations

from collections import defaultdict

from engine.context import Context
from engine.rows import Rejected
from stages.codegen_alignment.executions import run_on_cases


def nontrivial_cases(test_sets: list[dict]) -> list[dict]:
    """The test sets with their trivial asserts taken out (they agree with every function, so they carry no
    consensus), each assert once per set."""
    out = []
    for s in test_sets:
        keep = dict.fromkeys((cid, text) for cid, text, trivial in zip(s["case_ids"], s["asserts"], s["trivial"],
                                                                      strict=True) if not trivial)
        out.append({**s, "case_ids": [c for c, _ in keep], "asserts": [t for _, t in keep]})
    return out


def consensus_matrix(functions: list[dict], test_sets: list[dict], ctx: Context) -> list[dict | Rejected]:
    funcs: dict[str, list[dict]] = defaultdict(list)
    tests: dict[str, list[dict]] = defaultdict(list)
    for f in functions:
        funcs[f["task_id"]].append(f)
    for s in nontrivial_cases(test_sets):
        tests[s["task_id"]].append(s)
    return run_on_cases(funcs, tests, ctx)
