"""One row per compound constraint: two verifiable constraints of different families, joined."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_round: int = Field(ge=1)


class Compound(TypedDict):
    text: str
    families: list[str]
    parent_ids: list[str]  # the two constraints joined


def compounds(constraints_verifiable: list[dict], compounds_history: list[dict], params: Params,
              ctx: Context) -> list[Compound]:
    made = {tuple(sorted(c["parent_ids"])) for c in compounds_history}
    pairs = [
        (a, b)
        for i, a in enumerate(constraints_verifiable)
        for b in constraints_verifiable[i + 1:]
        if a["family"] != b["family"] and tuple(sorted((a["id"], b["id"]))) not in made
    ]
    chosen = ctx.rng.sample(pairs, min(params.per_round, len(pairs)))
    return [
        {"text": f"{a['text']} {b['text']}", "families": [a["family"], b["family"]], "parent_ids": [a["id"], b["id"]]}
        for a, b in chosen
    ]
