"""The length bounds a stage keeps texts within (constraints, queries), checked against each other at start-up."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class TextBounds(BaseModel):
    """`min_chars` .. `max_chars`: a stage's params extend it; a max below the min would reject every text."""

    model_config = ConfigDict(extra="forbid")
    min_chars: int = Field(ge=1)
    max_chars: int = Field(ge=1)

    @field_validator("max_chars")
    @classmethod
    def _max_not_below_min(cls, max_chars: int, info: ValidationInfo) -> int:
        min_chars = info.data.get("min_chars")
        if min_chars is not None and max_chars < min_chars:
            raise ValueError(f"max_chars ({max_chars}) is below min_chars ({min_chars}): every text would be rejected")
        return max_chars
