"""One row per candidate whose rewrite passes the principle's checker, with the letters it produced; the others
are rejected as `not_compliant` with their letters ("letters ADAPIVE")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from engine.context import Context
from engine.rows import Rejected
from helpers.principle_examples.principle import Principle, check_texts
from stages.principle_examples.candidates import Candidate


class CheckedCandidate(Candidate):
    letters: str  # what the checker observed
    judge_key: str  # the llm_judge checker's ("" for a python checker)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principle: Principle


def candidates_checked(candidates: list[dict], params: Params, ctx: Context) -> list[CheckedCandidate | Rejected]:
    verdicts = check_texts([c["rewrite"] for c in candidates], params.principle, ctx, ctx.project_root)
    out: list[dict | Rejected] = []
    for candidate, verdict in zip(candidates, verdicts, strict=True):
        row = {**{k: v for k, v in candidate.items() if k not in ("id", "parent_ids", "iteration")},
               "letters": verdict.observed, "judge_key": verdict.llm_key, "parent_ids": [candidate["id"]]}
        if verdict.passed is None:
            out.append(Rejected(row, "judge_unreadable", verdict.observed))
        elif not verdict.passed:
            out.append(Rejected(row, "not_compliant", f"letters {verdict.observed or '(none)'}"))
        else:
            out.append(row)
    return out
