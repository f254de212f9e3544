"""The length bounds a stage keeps texts within (constraints, queries): each stage names its pair after the block's
keys (`constraint_min_chars`, `query_max_chars`), and this module checks the pair and a text against it."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationInfo


def max_not_below(min_key: str) -> Callable[[int, ValidationInfo], int]:
    """A field validator for a `*_max_chars` field: a max below its min would reject every text."""

    def check(max_chars: int, info: ValidationInfo) -> int:
        min_chars = info.data.get(min_key)
        if min_chars is not None and max_chars < min_chars:
            raise ValueError(f"{info.field_name} ({max_chars}) is below {min_key} ({min_chars}): every text would "
                             "be rejected")
        return max_chars

    return check


def length_problem(text: str, min_chars: int, max_chars: int) -> str | None:
    """"too_short", "too_long", or None when the text's length is within the bounds."""
    if len(text) < min_chars:
        return "too_short"
    if len(text) > max_chars:
        return "too_long"
    return None
