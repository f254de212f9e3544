"""One row per (version, example): the version this round freezes, i.e. the working version's examples
(same ids, contents unchanged) plus the examples added this round. Earlier versions' rows are never touched:
each round writes a new slice, so every version stays as it was frozen."""

from __future__ import annotations

from typing import TypedDict

from engine.context import Context
from engine.graph import sha256

CONTENT = ("human_prompt", "assistant_answer", "critique", "rewrite", "letters", "simulated")


class LibraryRow(TypedDict):
    id: str
    parent_ids: list[str]
    version: int
    added_in_version: int
    human_prompt: str
    assistant_answer: str
    critique: str
    rewrite: str
    letters: str | None
    simulated: bool


def library(library_prev: list[dict], examples_added: list[dict], ctx: Context) -> list[LibraryRow]:
    version = ctx.iteration + 1
    kept = [{"id": e["id"], "parent_ids": e["parent_ids"], "version": version,
             "added_in_version": e["added_in_version"], **{k: e[k] for k in CONTENT}} for e in library_prev]
    # an example keeps one id in every version it belongs to, derived from what it says
    added = [{"id": "example:" + sha256(e["human_prompt"] + "\x00" + e["rewrite"])[:16], "parent_ids": [e["id"]],
              "version": version, "added_in_version": version, **{k: e[k] for k in CONTENT}} for e in examples_added]
    return kept + added
