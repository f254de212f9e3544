"""One row per usable (split, item): validation rows drive the rounds, test rows only measure versions."""

from __future__ import annotations

from typing import TypedDict

from engine.rows import Rejected

FIELDS = ("human_prompt", "model_answer")


class Item(TypedDict):
    split: str  # validation | test
    human_prompt: str
    assistant_answer: str
    parent_ids: list[str]


def _item(row: dict, split: str) -> Item:
    return {"split": split, "human_prompt": (row.get("human_prompt") or "").strip(),
            "assistant_answer": (row.get("model_answer") or "").strip(), "parent_ids": [row["id"]]}


def _missing(row: dict) -> list[str]:
    return [f for f in FIELDS if not isinstance(row.get(f), str) or not row[f].strip()]


def items(validation_rows: list[dict], test_rows: list[dict]) -> list[Item | Rejected]:
    out: list[Item | Rejected] = []
    seen: set[str] = set()
    for split, rows in (("validation", validation_rows), ("test", test_rows)):
        for row in rows:
            item = _item(row, split)
            key = " ".join(item["human_prompt"].lower().split())
            if missing := _missing(row):
                out.append(Rejected(item, "missing_field", f"{split} row lacks {', '.join(missing)}"))
            elif key in seen:
                # a test item that is also a validation item would leak into generation; a repeat counts twice
                out.append(Rejected(item, "duplicate_item", f"{split} prompt seen before: {item['human_prompt'][:80]}"))
            else:
                seen.add(key)
                out.append(item)
    return out
