"""One row per example of version 0: the shipped seed examples that have every field and pass the checker (with
another target word, seeds written for ADAPTIVE are rejected, and version 0 may be empty)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.principle import Principle, check_texts
from stages.principle_examples.library import LibraryRow

FIELDS = ("human_prompt", "model_answer", "critique", "rewrite")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principle: Principle


def library_seed(seed_rows: list[dict], params: Params, ctx: Context) -> list[LibraryRow | Rejected]:
    complete, out = [], []
    for row in seed_rows:
        example = {"version": 0, "added_in_version": 0, "human_prompt": row.get("human_prompt"),
                   "assistant_answer": row.get("model_answer"), "critique": row.get("critique"),
                   "rewrite": row.get("rewrite"), "letters": None, "simulated": False, "parent_ids": [row["id"]]}
        missing = [f for f in FIELDS if not isinstance(row.get(f), str) or not row[f].strip()]
        if missing:
            out.append(Rejected(example, "missing_field", f"seed example lacks {', '.join(missing)}"))
        else:
            complete.append(example)
    for example, verdict in zip(complete, check_texts([e["rewrite"] for e in complete], params.principle, ctx,
                                                      ctx.project_root), strict=True):
        example = {**example, "letters": verdict.observed}
        out.append(example if verdict.passed else Rejected(example, "not_compliant", f"letters {verdict.observed}"))
    return out
