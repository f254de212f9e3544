"""The loop's stop condition: `patience` iterations in a row without a better best train accuracy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PatienceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patience: int = Field(ge=1)  # iterations in a row without a better best train accuracy that end the loop


def patience_exhausted(pool: list[dict], iteration: int, params: PatienceParams) -> bool:
    """The engine validates `params` before the first iteration; a direct caller may pass a dict."""
    patience = PatienceParams.model_validate(params).patience
    current = [p for p in pool if p["iteration"] == iteration]
    # the best train accuracy after n iterations, n = 0 (the initial prompts, prompt_iteration null) to this one
    best_after = [max((p["train_accuracy"] for p in current
                       if p["prompt_iteration"] is None or p["prompt_iteration"] < n), default=0.0)
                  for n in range(iteration + 2)]
    return len(best_after) > patience and best_after[-1] <= best_after[-1 - patience]
