"""One row: the thresholds of the experiment's SQL filters (SQL stages take no params, so the config values reach
them as this table, and a changed threshold changes its fingerprint and recomputes the filters after it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_funcs: int = Field(ge=1)
    min_cases: int = Field(ge=1)
    func_accuracy: float = Field(ge=0, le=1)
    pass_threshold: float = Field(gt=0, le=1)


def verification_thresholds(params: Params) -> list[dict]:
    return [{"id": "thresholds", **params.model_dump()}]
