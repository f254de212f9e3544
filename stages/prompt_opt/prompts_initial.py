"""One row per initial instruction from the config: the pool the loop starts from (epoch 0)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial_prompts: list[str] = Field(min_length=1)


def prompts_initial(params: Params) -> list[dict]:
    if len(set(params.initial_prompts)) != len(params.initial_prompts):
        raise ValueError("prompt_opt.initial_prompts holds the same prompt twice")
    return [{"prompt": p, "epoch": 0, "origin": "initial", "parent_prompt_ids": []}
            for p in params.initial_prompts]
