"""One row per verified response the judge scores high enough (AutoIF step 8): an analysis, then a 0-10 score on
the line the prompt asks for ("Score: N", read by helpers.autoif.replies.score_line), kept when
`score >= score_threshold` (or `>`, the original code's choice: `score_comparison`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import render, user
from helpers.autoif.replies import score_line
from stages.autoif.response_checks import CheckedResponse
from stages.autoif.responses import Response

JudgePrompt = TemplatePath(required=["prompt", "response"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: JudgePrompt
    score_threshold: float = Field(ge=0, le=10)
    score_comparison: Literal[">=", ">"]
    max_tokens: int = Field(ge=8)


def meets(score: float, params: Params) -> bool:
    return score >= params.score_threshold if params.score_comparison == ">=" else score > params.score_threshold


class ScoredResponse(CheckedResponse, Response):  # a checked response row, scored
    judge_key: str
    score: float  # 0-10, from the judge's score line
    judgement: str  # the judge's whole reply


def responses_scored(responses_verified: list[dict], params: Params, ctx: Context) -> list[ScoredResponse | Rejected]:
    requests = [Request(user(render(ctx.project_root, params.prompt, prompt=r["prompt"], response=r["response"])),
                        task="autoif.judge", max_tokens=params.max_tokens) for r in responses_verified]
    out: list[ScoredResponse | Rejected] = []
    for r, reply in zip(responses_verified, ctx.llm("judge").complete(requests, desc="judge"), strict=True):
        row = {**{k: v for k, v in r.items() if k not in ("id", "parent_ids")}, "parent_ids": [r["id"]],
               "judge_key": reply.key, "simulated": bool(r["simulated"] or reply.simulated)}
        if not reply.ok:
            out.append(Rejected({**row, "score": None, "judgement": None}, reply.reason, reply.error))
            continue
        score = score_line(reply.text)
        row = {**row, "score": score, "judgement": reply.text}
        if score is None:
            out.append(Rejected(row, "no_score", reply.text[-300:]))
        elif not meets(score, params):
            out.append(Rejected(row, "below_score_threshold",
                                f"score {score:g}, needs {params.score_comparison} {params.score_threshold:g}"))
        else:
            out.append(row)
    return out
