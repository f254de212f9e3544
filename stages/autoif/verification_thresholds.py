"""One row: the thresholds of the experiment's SQL filters. A SQL stage's own params (DuckDB variables) are typed
but not range-checked; here each threshold is validated against its range at start-up, with the config key in
the error, and the filters read the one table. A changed threshold changes this stage's fingerprint and so
recomputes the filters after it."""

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
