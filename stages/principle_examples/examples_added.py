"""One row per compliant candidate that enters the library: not a near-duplicate of an example already in the
working version or added earlier this round (`duplicate`), nor of a validation item (`copies_validation`: an
example that is a validation item would inflate the validation pass rate)."""

from __future__ import annotations

import re
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from engine.rows import Rejected


class ExampleAdded(TypedDict):
    human_prompt: str
    assistant_answer: str
    critique: str
    rewrite: str
    letters: str
    simulated: bool
    parent_ids: list[str]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_similarity: float = Field(gt=0, le=1)  # token-sorted similarity of the human prompts, 0..1


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _closest(prompt: str, others: list[tuple[str, str]]) -> tuple[str, float]:
    best_id, best = "", 0.0
    for other_id, other in others:
        score = fuzz.token_sort_ratio(prompt, other) / 100
        if score > best:
            best_id, best = other_id, score
    return best_id, best


def examples_added(candidates_checked: list[dict], library_prev: list[dict], items_validation: list[dict],
                   params: Params) -> list[ExampleAdded | Rejected]:
    library = [(e["id"], _normal(e["human_prompt"])) for e in library_prev]
    validation = [(v["item_id"], _normal(v["human_prompt"])) for v in items_validation]
    out: list[dict | Rejected] = []
    for candidate in candidates_checked:
        prompt = _normal(candidate["human_prompt"])
        row = {k: candidate[k] for k in ("human_prompt", "assistant_answer", "critique", "rewrite", "letters",
                                         "simulated")} | {"parent_ids": [candidate["id"]]}
        twin, score = _closest(prompt, library)
        if score >= params.duplicate_similarity:
            out.append(Rejected(row, "duplicate", f"similarity {score:.2f} to example {twin}"))
            continue
        twin, score = _closest(prompt, validation)
        if score >= params.duplicate_similarity:
            out.append(Rejected(row, "copies_validation", f"similarity {score:.2f} to validation item {twin}"))
            continue
        library.append((f"{candidate['id']} (this round)", prompt))
        out.append(row)
    return out
