"""One row per seed constraint: its family (by keyword) and the numbers it mentions."""

from __future__ import annotations

import re
from typing import TypedDict

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    families: dict[str, list[str]]  # family -> keywords; the first family with a keyword in the text wins


class TaggedConstraint(TypedDict):
    text: str
    family: str  # a key of params.families, or "unclassified"
    numbers: list[int]


def constraints_tagged(row: dict, params: Params) -> TaggedConstraint:
    text = row["text"]
    lowered = text.lower()
    family = next((f for f, words in params.families.items() if any(w in lowered for w in words)), "unclassified")
    return {"text": text, "family": family, "numbers": [int(n) for n in re.findall(r"\b\d+\b", text)]}
