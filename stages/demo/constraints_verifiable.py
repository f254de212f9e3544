"""One row per tagged constraint a plain Python function can check; rejects the rest with the reason why not."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from stages.demo.constraints_tagged import TaggedConstraint


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    needs_tools: dict[str, str] = {}  # family -> reason slug, for families that need more than the text


def constraints_verifiable(row: TaggedConstraint, params: Params) -> bool | str:
    if row["family"] == "unclassified":
        return "unclassified"
    return params.needs_tools.get(row["family"], True)
