"""Measuring one library version: the items of a split critiqued and rewritten with the version's examples as
context, each rewrite judged by the principle's checker. Shared by `evaluation_seed` and `evaluation` (every
version on validation, which chooses) and `evaluation_test` (the chosen version on test, once)."""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.principle import check_texts
from helpers.principle_examples.teaching import TeacherParams, critique_and_rewrite

# the teacher answered but gave no usable rewrite: a failure of the version, not of the call
TEACHER_FAILURES = ("no_critique", "no_rewrite", "truncated")


class Evaluation(TypedDict):
    version: int
    split: str
    item_id: str
    human_prompt: str
    critique: str | None
    rewrite: str | None
    letters: str | None
    passed: bool
    critique_key: str
    llm_key: str  # the rewrite's
    judge_key: str  # the llm_judge checker's ("" for a python checker)
    simulated: bool
    failure: str | None  # why the teacher gave no rewrite (no_critique, no_rewrite, truncated)
    parent_ids: list[str]


def validation_items(items: list[dict]) -> list[dict]:
    """The items versions are compared on: a version's test figure is never computed before it is chosen."""
    return [i for i in items if i["split"] == "validation"]


def evaluate_version(version: int, library: list[dict], items: list[dict], params: TeacherParams,
                     ctx: Context) -> list[Evaluation | Rejected]:
    """One row per (version, item) with the rewrite, the letters it produced and whether it passed. An item the
    teacher gave no rewrite for (no critique, no REWRITE: line, cut at max_tokens) is a failed row with its
    `failure` reason: the version did not teach it, and the failure analysis must see it. A failed call
    (llm_error, refused) is a Rejected row; it still counts against the version (the pass rate's denominator
    is every item of the split, see `versions`)."""
    turns = critique_and_rewrite(items, library, params, ctx)
    written = [i for i, t in enumerate(turns) if t.rewrite is not None]
    verdicts = dict(zip(written, check_texts([turns[i].rewrite for i in written], params.principle, ctx,
                                             ctx.project_root), strict=True))
    out: list[Evaluation | Rejected] = []
    for i, (item, turn) in enumerate(zip(items, turns, strict=True)):
        row = {"version": version, "split": item["split"], "item_id": item["id"],
               "human_prompt": item["human_prompt"], "critique": turn.critique, "rewrite": turn.rewrite,
               "letters": None, "passed": False, "critique_key": turn.critique_key, "llm_key": turn.rewrite_key,
               "judge_key": "", "simulated": turn.simulated, "failure": turn.error, "parent_ids": [item["id"]]}
        if turn.error in TEACHER_FAILURES:
            out.append(row)
            continue
        if turn.error:
            out.append(Rejected(row, turn.error, turn.detail))
            continue
        verdict = verdicts[i]
        row = {**row, "letters": verdict.observed, "passed": bool(verdict.passed), "judge_key": verdict.llm_key}
        out.append(row if verdict.passed is not None else Rejected(row, "judge_unreadable", verdict.observed))
    return out
