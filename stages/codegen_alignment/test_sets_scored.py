"""One row per test set: its asserts run on the task's reference solution (used to score, never to choose).

A test set is correct when every assert passes on the reference; a trivial one passes whatever the function, so
the figure that says how good a generator's tests are is the share of its non-trivial sets that are correct. A
program task's case is correct when the reference prints its expected output, or, for an input whose output is
left to the programs' consensus, when the reference runs to its end on it (the input is valid).
"""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from engine.sandbox import Outcome
from helpers.codegen_alignment.io_cases import parse_case, program_job
from helpers.codegen_alignment.programs import cases_job


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


def program_set_outcomes(test_sets: list[dict], references: dict[str, dict], tasks: dict[str, dict],
                         ctx: Context) -> list[Outcome]:
    """Per program task's test set: ok with one bool per case, or the first status that is not a verdict."""
    jobs = [[program_job(references[s["task_id"]]["program"], stdin, tasks[s["task_id"]], expected)
             for stdin, expected in map(parse_case, s["asserts"])] for s in test_sets]
    outcomes = iter(ctx.sandbox.run([job for per_set in jobs for job in per_set], desc="score tests"))
    out = []
    for per_set in jobs:
        runs = [next(outcomes) for _ in per_set]
        unfinished = next((o for o in runs if o.status not in ("ok", "wrong_answer")), None)
        out.append(Outcome("ok", [o.status == "ok" for o in runs]) if unfinished is None else unfinished)
    return out


def test_sets_scored(tasks: list[dict], test_sets: list[dict], reference_functions: list[dict],
                     ctx: Context) -> list[ScoredTestSet]:
    references = {r["task_id"]: r for r in reference_functions}
    programs = {t["task_id"]: t for t in tasks if t["kind"] == "program"}
    function_sets = [s for s in test_sets if s["task_id"] not in programs]
    # one job per set, not per task pool: a set whose asserts hang on the reference then fails alone
    function_outcomes = iter(ctx.sandbox.run([cases_job(references[s["task_id"]]["program"], s["asserts"])
                                              for s in function_sets], desc="score tests"))
    program_outcomes = iter(program_set_outcomes([s for s in test_sets if s["task_id"] in programs], references,
                                                 programs, ctx))
    outcomes = [next(program_outcomes) if s["task_id"] in programs else next(function_outcomes) for s in test_sets]
    out: list[ScoredTestSet] = []
    for s, outcome in zip(test_sets, outcomes, strict=True):
        verdicts = outcome.value if outcome.status == "ok" and isinstance(outcome.value, list) else []
        n_passed = sum(v is True for v in verdicts)
        out.append({"parent_ids": [s["id"]], "test_set_id": s["id"], "task_id": s["task_id"],
                    "generator": s["generator"], "round": s["iteration"], "nontrivial": s["nontrivial"],
                    "n_asserts": s["n_asserts"], "n_passed": n_passed, "status": outcome.status,
                    "passes_reference": outcome.status == "ok" and n_passed == s["n_asserts"]})
    return out
