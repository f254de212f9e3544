"""One row per verified response the judge scores high enough (AutoIF step 8): an analysis, then a 0-10 score,
kept when `score >= score_threshold` (or `>`, the original code's choice: `score_comparison`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.rows import Rejected
from stages.autoif.prompting import render, user

_NUMBER = r"(\d+(?:\.\d+)?)"
# most specific first: "Score: 9", "**Score:** 9", "score = 9/10"; then a bare "9/10" or "9 out of 10"
_SCORE_PATTERNS = (re.compile(r"score\W{0,4}\s*(?:is|of|=|:)?\s*\**\s*" + _NUMBER, re.IGNORECASE),
                   re.compile(_NUMBER + r"\s*(?:/|out of)\s*10\b", re.IGNORECASE))


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    score_threshold: float = Field(ge=0, le=10)
    score_comparison: Literal[">=", ">"]
    max_tokens: int = Field(ge=8)


def parse_score(reply: str) -> float | None:
    """The judge's score: the last match of the most specific pattern that matches, if it lies in 0..10."""
    for pattern in _SCORE_PATTERNS:
        found = pattern.findall(reply)
        if found:
            score = float(found[-1])
            return score if 0 <= score <= 10 else None
    return None


def meets(score: float, params: Params) -> bool:
    return score >= params.score_threshold if params.score_comparison == ">=" else score > params.score_threshold


def responses_scored(responses_verified: list[dict], params: Params, ctx: Context) -> list:
    requests = [Request(user(render(ctx.project_root, params.prompt, prompt=r["prompt"], response=r["response"])),
                        task="autoif.judge", max_tokens=params.max_tokens) for r in responses_verified]
    out: list = []
    for r, reply in zip(responses_verified, ctx.llm("judge").complete(requests, desc="judge"), strict=True):
        row = {**{k: v for k, v in r.items() if k not in ("id", "parent_ids")}, "parent_ids": [r["id"]],
               "judge_key": reply.key, "simulated": bool(r["simulated"] or reply.simulated)}
        if not reply.ok:
            out.append(Rejected({**row, "score": None, "judgement": None}, reply.reason, reply.error))
            continue
        score = parse_score(reply.text)
        row = {**row, "score": score, "judgement": reply.text}
        if score is None:
            out.append(Rejected(row, "no_score", reply.text[-300:]))
        elif not meets(score, params):
            out.append(Rejected(row, "below_score_threshold",
                                f"score {score:g}, needs {params.score_comparison} {params.score_threshold:g}"))
        else:
            out.append(row)
    return out
