"""One row per initial instruction from the config: the pool the loop starts from. `prompt_iteration`
(the loop iteration that proposed a prompt) is null: no iteration did."""

from __future__ import annotations

from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial_prompts: list[str] = Field(min_length=1)


class Prompt(TypedDict):
    """A candidate instruction for the evaluator (an initial one, or a generated one: stage candidates)."""

    prompt: str
    prompt_iteration: int | None  # the loop iteration whose generator wrote it; null for an initial prompt
    origin: Literal["initial", "generated"]
    parent_prompt_ids: list[str]  # the prompts its meta prompt showed
    parent_ids: list[str]  # the proposal it was cleaned from; none for an initial prompt (a seed)


def prompts_initial(params: Params) -> list[Prompt]:
    if len(set(params.initial_prompts)) != len(params.initial_prompts):
        raise ValueError("prompt_opt.initial_prompts holds the same prompt twice")
    return [{"prompt": p, "prompt_iteration": None, "origin": "initial", "parent_prompt_ids": [], "parent_ids": []}
            for p in params.initial_prompts]
