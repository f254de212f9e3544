"""One row per frozen version: its parent, its examples, what it added, and its validation pass rate with a
Wilson 95% interval (the figure versions are chosen by; only the chosen one is measured on test, after the rounds:
chosen_version.py). Round `iteration` freezes version `iteration + 1`; round 0 also records
version 0 (the seed library), which it is the first to see. The loop's stop condition reads this table."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from helpers.common.stats import wilson_interval


class Version(TypedDict):
    version: int
    parent_version: int | None
    examples: int
    examples_added: int
    added_ids: list[str]
    example_ids: list[str]
    parent_ids: list[str]  # the evaluation rows it was measured by
    validation_n: int
    validation_passed: int
    validation_pass_rate: float | None
    validation_low: float
    validation_high: float


def _version_row(version: int, parent: int | None, library: list[dict], evaluation: list[dict],
                 items: list[dict]) -> Version:
    added = sorted(e["id"] for e in library if e["added_in_version"] == version)
    row = {"version": version, "parent_version": parent, "examples": len(library), "examples_added": len(added),
           "added_ids": added, "example_ids": sorted(e["id"] for e in library),
           "parent_ids": sorted(e["id"] for e in evaluation)}
    return row | pass_rate("validation", items, evaluation)


def pass_rate(split: str, items: list[dict], evaluation: list[dict]) -> dict:
    """`<split>_n`, `_passed`, `_pass_rate` and its Wilson 95% interval `_low`, `_high`: every item of the split
    is in the denominator, so an item the teacher gave no usable rewrite for (or whose call failed) counts as a
    failure."""
    n = sum(1 for i in items if i["split"] == split)
    passed = sum(1 for e in evaluation if e["split"] == split and e["passed"])
    low, high = wilson_interval(passed, n)
    return {f"{split}_n": n, f"{split}_passed": passed, f"{split}_pass_rate": round(passed / n, 4) if n else None,
            f"{split}_low": low, f"{split}_high": high}


def versions(library: list[dict], library_prev: list[dict], evaluation: list[dict], evaluation_prev: list[dict],
             items: list[dict], ctx: Context) -> list[Version]:
    rows = [_version_row(0, None, library_prev, evaluation_prev, items)] if ctx.iteration == 0 else []
    version = ctx.iteration + 1
    return rows + [_version_row(version, version - 1, library, evaluation, items)]


class StopParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_pass_rate: float = Field(gt=0, le=1)  # validation pass rate that ends the rounds
    patience: int = Field(ge=1)  # rounds in a row without a new example that end them


def stop(versions: list[dict], params: StopParams) -> bool:
    """Stop when the newest version reaches the target validation pass rate, or `patience` rounds in a row
    added nothing. The engine validates `params` against StopParams before the first round."""
    settings = StopParams.model_validate(params)
    ordered = sorted(versions, key=lambda v: v["version"])
    if (ordered[-1]["validation_pass_rate"] or 0) >= settings.target_pass_rate:
        return True
    recent = [v for v in ordered if v["version"] > 0][-settings.patience:]
    return len(recent) == settings.patience and all(v["examples_added"] == 0 for v in recent)
