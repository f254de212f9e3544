"""Which functions and test sets meet in a round: all of them so far (pool), or each side's latest (round)."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

Pairing = Literal["round", "pool"]


def in_play(current: list[dict], history: list[dict], pairing: Pairing) -> dict[str, list[dict]]:
    """Rows per task_id. `round`: the task's rows from the latest round that made any (a side the policy did
    not regenerate keeps its last rows); `pool`: every row so far."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for row in history + current:
        by_task[row["task_id"]].append(row)
    if pairing == "pool":
        return dict(by_task)
    return {task: [r for r in rows if r["iteration"] == max(x["iteration"] for x in rows)]
            for task, rows in by_task.items()}
