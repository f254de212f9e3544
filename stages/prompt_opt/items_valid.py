"""One row per dataset item fit to score: exactly four non-empty options A-D and an answer among them."""

from __future__ import annotations

from typing import TypedDict

from helpers.prompt_opt.evaluation import LETTERS


class Options(TypedDict):
    A: str
    B: str
    C: str
    D: str


class Item(TypedDict):
    """A multiple-choice question as the data gives it (sample_data/multiple_choice.jsonl)."""

    id: str
    source_id: str
    context: str | None  # the passage the question is about, when there is one
    question: str
    options: Options
    answer: str  # the correct option's letter
    source: str


def items_valid(item: Item) -> bool | str:
    options = item.get("options") or {}
    given = {k for k, v in options.items() if isinstance(v, str) and v.strip()}
    if given != set(LETTERS):
        return "not_four_options"
    if item.get("answer") not in tuple(LETTERS):
        return "answer_not_a_to_d"
    return True
