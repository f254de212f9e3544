"""The test split, read once: `evaluation_test` measures only the version chosen on validation (`is_best` in
versions_ranked) on the test items, one row per test item; `chosen_version_test` is its pass rate with a Wilson 95%
interval, one row. No other version is ever measured on test, so no figure exists that could choose by it, and
the calls for it are not paid for."""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.scoring import Evaluation, evaluate_version
from helpers.principle_examples.teaching import TeacherParams
from stages.principle_examples.versions import pass_rate


def chosen(versions_ranked: list[dict]) -> dict:
    [best] = [v for v in versions_ranked if v["is_best"]]
    return best


def evaluation_test(library_versions: list[dict], versions_ranked: list[dict], items: list[dict],
                    params: TeacherParams, ctx: Context) -> list[Evaluation | Rejected]:
    version = chosen(versions_ranked)["version"]
    # library_versions names an example's id example_id; the prompt is rendered from the same fields as in the
    # rounds, so the chosen version is shown to the teacher exactly as validation measured it
    library = [{**e, "id": e["example_id"]} for e in library_versions if e["version"] == version]
    return evaluate_version(version, library, [i for i in items if i["split"] == "test"], params, ctx)


class ChosenVersionTest(TypedDict):
    version: int
    validation_pass_rate: float | None
    test_n: int
    test_passed: int
    test_pass_rate: float | None
    test_low: float
    test_high: float
    parent_ids: list[str]  # the chosen version's row and the evaluation rows that measured it


def chosen_version_test(versions_ranked: list[dict], evaluation_test: list[dict],
                        items: list[dict]) -> list[ChosenVersionTest]:
    best = chosen(versions_ranked)
    return [{"version": best["version"], "validation_pass_rate": best["validation_pass_rate"],
             **pass_rate("test", items, evaluation_test),
             "parent_ids": [best["id"], *sorted(e["id"] for e in evaluation_test)]}]
