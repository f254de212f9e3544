"""codegen_alignment compares its selection strategies; it chooses none of them by the ground truth (issue 16,
item 5): within a task, a strategy picks among functions from the generated tests alone, and the report gives every
strategy's pass@1, measured once on the hidden ground truth, without naming a best one."""

from __future__ import annotations

import pytest

from stages.codegen_alignment.selections import Params, selections

STRATEGIES = ["random", "first_aligned", "codet", "codet_sqrt", "b4"]


def _inputs(ground_truth: str) -> dict:
    task = {"id": "t0", "task_id": "HumanEval/0", "entry_point": "f", "prompt": "def f(x):\n",
            "canonical_solution": ground_truth, "test": f"def check(f):\n    assert f(1) == {ground_truth}\n"}
    functions = [{"id": f"fn{i}", "task_id": "HumanEval/0"} for i in range(3)]
    test_sets = [{"id": "ts0", "task_id": "HumanEval/0", "case_ids": ["c1", "c2"], "asserts": ["a1", "a2"],
                  "trivial": [False, False]}]
    matrix = [{"task_id": "HumanEval/0", "function_id": "fn0", "passed_case_ids": ["c1", "c2"]},
              {"task_id": "HumanEval/0", "function_id": "fn1", "passed_case_ids": ["c1"]},
              {"task_id": "HumanEval/0", "function_id": "fn2", "passed_case_ids": []}]
    alignment = [{"task_id": "HumanEval/0", "aligned_now": True, "aligned_function_ids": ["fn0"]}]
    return {"tasks": [task], "functions": functions, "test_sets": test_sets, "consensus_matrix": matrix,
            "alignment": alignment}


def test_every_strategy_picks_the_same_functions_whatever_the_ground_truth():
    params = Params(strategies=STRATEGIES)
    picked = selections(**_inputs("2"), params=params)
    assert picked == selections(**_inputs("-7"), params=params)
    by_strategy = {p["strategy"]: p["candidates"] for p in picked}
    assert by_strategy["codet"] == ["fn0"] and by_strategy["random"] == ["fn0", "fn1", "fn2"]  # the tests decide


@pytest.mark.parametrize("hidden", ["canonical_solution", "test"])
def test_selection_needs_no_ground_truth_column(hidden):
    inputs = _inputs("2")
    inputs["tasks"] = [{k: v for k, v in t.items() if k != hidden} for t in inputs["tasks"]]
    assert selections(**inputs, params=Params(strategies=STRATEGIES)) == \
        selections(**_inputs("2"), params=Params(strategies=STRATEGIES))
