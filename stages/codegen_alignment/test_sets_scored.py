"""One row per test set: its asserts run on the task's reference solution (used to score, never to choose).

A test set is correct when every assert passes on the reference; a trivial one passes whatever the function, so
the figure that says how good a generator's tests are is the share of its non-trivial sets that are correct.
"""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from stages.codegen_alignment.programs import cases_job


class ScoredTestSet(TypedDict):
    parent_ids: list[str]
    test_set_id: str
    task_id: str
    generator: str
    round: int
    nontrivial: bool
    n_asserts: int
    n_passed: int
    status: str  # the sandbox's: ok, or timeout / memory / error when the asserts do not finish on the reference
    passes_reference: bool


def test_sets_scored(test_sets: list[dict], reference_functions: list[dict], ctx: Context) -> list[ScoredTestSet]:
    references = {r["task_id"]: r["program"] for r in reference_functions}
    # one job per set, not per task pool: a set whose asserts hang on the reference then fails alone
    outcomes = ctx.sandbox.run([cases_job(references[s["task_id"]], s["asserts"]) for s in test_sets],
                               desc="score tests")
    out: list[ScoredTestSet] = []
    for s, outcome in zip(test_sets, outcomes, strict=True):
        verdicts = outcome.value if outcome.status == "ok" and isinstance(outcome.value, list) else []
        n_passed = sum(v is True for v in verdicts)
        out.append({"parent_ids": [s["id"]], "test_set_id": s["id"], "task_id": s["task_id"],
                    "generator": s["generator"], "round": s["iteration"], "nontrivial": s["nontrivial"],
                    "n_asserts": s["n_asserts"], "n_passed": n_passed, "status": outcome.status,
                    "passes_reference": outcome.status == "ok" and n_passed == s["n_asserts"]})
    return out
