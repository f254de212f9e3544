"""One row per dataset item fit to score: exactly four non-empty options A-D and an answer among them."""

from __future__ import annotations

from helpers.prompt_opt.evaluation import LETTERS


def items_valid(item: dict) -> bool | str:
    options = item.get("options") or {}
    given = {k for k, v in options.items() if isinstance(v, str) and v.strip()}
    if given != set(LETTERS):
        return "not_four_options"
    if item.get("answer") not in tuple(LETTERS):
        return "answer_not_a_to_d"
    return True
