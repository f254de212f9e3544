"""One row per distinct constraint: seeds and augmented lines without exact or near duplicates (AutoIF step 1).

Exact duplicates share a normalised text (case, whitespace and end punctuation ignored). Near duplicates have the
same parameters (numbers, quoted words, and the polarity and comparison words around them) and a fuzzy similarity
(rapidfuzz token-sort ratio, 0-100) of at least `near_duplicate_threshold`: "Answer with at least 300 words" and
"...350 words" are similar text but different constraints, and so are "at least 80 words" and "at most 80 words"
(ratio 91), so only texts stating the same parameters the same way can be near duplicates. Seeds come first, so a
line repeating a seed is the one dropped.
"""

from __future__ import annotations

import re
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from engine.rows import Rejected


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    near_duplicate_threshold: float = Field(ge=50, le=100)


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip().rstrip(".!").strip()


# Words that turn a constraint into its opposite or move its bound, each mapped to what it means, so that wordings
# of the same meaning ("fewer than" / "less than") still meet and opposite ones ("at least" / "at most") never do.
_POLARITY = {
    "at least": ">=", "no fewer than": ">=", "no less than": ">=", "minimum of": ">=", "or more": ">=",
    "at most": "<=", "no more than": "<=", "maximum of": "<=", "up to": "<=", "or fewer": "<=", "or less": "<=",
    "fewer than": "<", "less than": "<", "under": "<", "below": "<",
    "more than": ">", "over": ">", "above": ">", "exceed": ">", "exceeds": ">", "greater than": ">",
    "exactly": "==", "only": "only", "between": "between",
    "must": "must", "should": "must", "need to": "must", "have to": "must", "required": "must",
    "may": "may", "can": "may", "optional": "may", "allowed": "may",
    "no": "not", "not": "not", "never": "not", "don't": "not", "do not": "not", "without": "not", "avoid": "not",
    "nor": "not", "none": "not",
}
_PARAMETER = re.compile(r"\d+|\"[^\"]*\"|'[^']*'|\b(?:" + "|".join(
    re.escape(w) for w in sorted(_POLARITY, key=len, reverse=True)) + r")\b")


def parameters(text: str) -> tuple[str, ...]:
    """The numbers, quoted strings and polarity words a constraint states, in order: what makes two similar
    texts different constraints."""
    return tuple(_POLARITY.get(found, found) for found in _PARAMETER.findall(text.lower()))


class Constraint(TypedDict):
    id: str
    text: str
    origin: str  # seed or augmented
    parent_ids: list[str]
    simulated: bool


def constraints(seed_constraints: list[dict], constraints_augmented: list[dict],
                params: Params) -> list[Constraint | Rejected]:
    candidates = [(row, "seed") for row in seed_constraints] + [(row, "augmented") for row in constraints_augmented]
    exact: dict[str, str] = {}  # normalised text -> id of the row kept for it
    kept_by_parameters: dict[tuple[str, ...], list[tuple[str, str]]] = {}  # parameters -> [(normalised, id)]
    out: list = []
    for source_row, origin in candidates:
        text = source_row["text"]
        key = normalised(text)
        row = {"text": text, "origin": origin, "parent_ids": [source_row["id"]],
               "simulated": bool(source_row.get("simulated", False))}
        if key in exact:
            out.append(Rejected({**row, "duplicate_of": exact[key]}, "duplicate", "exact"))
            continue
        group = kept_by_parameters.setdefault(parameters(text), [])
        match = process.extractOne(key, [k for k, _ in group], scorer=fuzz.token_sort_ratio,
                                   score_cutoff=params.near_duplicate_threshold)
        if match is not None:
            similar_text, score, index = match
            out.append(Rejected({**row, "duplicate_of": group[index][1]}, "duplicate",
                                f"near: {score:.0f} similar to {similar_text!r}"))
            continue
        row["id"] = f"constraint-{len(exact):05d}"
        exact[key] = row["id"]
        group.append((key, row["id"]))
        out.append(row)
    return out
