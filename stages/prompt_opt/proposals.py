"""One row per generator reply to a meta prompt: the raw text, before any cleaning."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.rows import Rejected


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    generator_temperature: float = Field(ge=0, le=2)
    generator_max_tokens: int = Field(ge=16, le=4096)


class Proposal(TypedDict):
    reply: str  # the raw text, cleaned by stage candidates
    llm_key: str
    simulated: bool
    parent_ids: list[str]  # its meta prompt


def proposals(meta_prompts: list[dict], params: Params, ctx: Context) -> list[Proposal | Rejected]:
    # each iteration asks for fresh samples: an unchanged meta prompt must not get the last one's cached reply
    first_sample = ctx.iteration * len(meta_prompts)
    replies = ctx.llm("generator").complete(
        [Request([{"role": "user", "content": m["meta_prompt"]}], task="prompt_opt.propose",
                 sample_index=first_sample + m["proposal_index"], temperature=params.generator_temperature,
                 max_tokens=params.generator_max_tokens) for m in meta_prompts],
        desc=f"iteration {ctx.iteration} proposals")
    rows: list[Proposal | Rejected] = []
    for meta, reply in zip(meta_prompts, replies, strict=True):
        row: Proposal = {"reply": reply.text, "llm_key": reply.key, "simulated": reply.simulated,
                         "parent_ids": [meta["id"]]}
        rows.append(row if reply.ok else Rejected(row, reply.reason, reply.error or ""))
    return rows
