"""The loop's stop condition: `patience` epochs in a row without a better best train accuracy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PatienceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patience: int = Field(ge=1)  # epochs in a row without a better best train accuracy that end the loop


def patience_exhausted(pool: list[dict], iteration: int, params: PatienceParams) -> bool:
    """The engine validates `params` before the first epoch; a direct caller may pass a dict."""
    patience = PatienceParams.model_validate(params).patience
    current = [p for p in pool if p["iteration"] == iteration]
    best_by_epoch = [max((p["train_accuracy"] for p in current if p["epoch"] <= e), default=0.0)
                     for e in range(iteration + 2)]  # epoch 0 (the initial prompts) up to this one
    return len(best_by_epoch) > patience and best_by_epoch[-1] <= best_by_epoch[-1 - patience]
