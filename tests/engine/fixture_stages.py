"""Stages used by the engine's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.rows import Rejected


class ScaleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factor: int = Field(ge=1, le=100)


def scaled(row: dict, params: ScaleParams) -> dict:
    return {"n": row["n"] * params.factor}


def fragile(row: dict) -> dict:
    if row["n"] == 3:
        raise ValueError("three is not allowed")
    return {"n": row["n"]}


def is_even(row: dict) -> bool | str:
    return True if row["n"] % 2 == 0 else "odd"


def parity(numbers: list[dict]) -> list:
    return [{**r} if r["n"] % 2 == 0 else Rejected(r, "odd", f"{r['n']} is odd") for r in numbers]


def twice(numbers: list[dict]) -> list:
    return [numbers[0], numbers[0]]


def mixed_types(numbers: list[dict]) -> list:
    return [{"v": 1, "parent_ids": [numbers[0]["id"]]}, {"v": "one", "parent_ids": [numbers[1]["id"]]}]


def wrong_args(something_else: list[dict]) -> list:
    return []


def grow(state_prev: list[dict], params: dict) -> list:
    """One row per iteration: the previous total plus `step` (loop state carried by @prev)."""
    total = sum(r["total"] for r in state_prev)
    return [{"total": total + params["step"], "parent_ids": [r["id"] for r in state_prev]}]


def stop_at(state: list[dict], params: dict) -> bool:
    return max(r["total"] for r in state) >= params["limit"]


class SlowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sleep_s: float = 0.0
    marker: str = ""  # a file created when the stage starts, so a test knows when to kill the run
    # a file the stage waits for before it computes anything: a run killed meanwhile is surely killed mid-stage,
    # however slowly a busy machine lets the test get to the kill
    go_when: str = ""


def slow_squares(numbers: list[dict], params: SlowParams) -> list[dict]:
    if params.marker:
        Path(params.marker).write_text(str(os.getpid()))
    while params.go_when and not Path(params.go_when).exists():
        time.sleep(0.02)
    out = []
    for r in numbers:
        time.sleep(params.sleep_s)
        out.append({"n": r["n"], "square": r["n"] ** 2, "parent_ids": [r["id"]]})
    return out


def total_is_even(row: dict) -> bool | str:
    return True if row["total"] % 2 == 0 else "odd"


def reject_all(row: dict) -> bool | str:
    return "not_wanted"


def echoed(numbers: list[dict], ctx) -> list:
    """One row per number: the teacher's reply to a prompt naming it (the loopback server echoes)."""
    from engine.llm import Request

    requests = [Request([{"role": "user", "content": f"say {r['n']}"}], task="generic.echo") for r in numbers]
    replies = ctx.llm("teacher").complete(requests)
    return [
        {"reply": resp.text, "llm_key": resp.key, "parent_ids": [r["id"]]} if resp.ok
        else Rejected(r, resp.reason, resp.error)
        for r, resp in zip(numbers, replies, strict=True)
    ]


def blanks(numbers: list[dict]) -> list[dict]:
    return [{"tags": [], "note": None, "parent_ids": [numbers[0]["id"]]}]


class PairRow(TypedDict):
    first: int
    tags: list[str]
    note: str | None


def no_pairs(numbers: list[dict]) -> list[PairRow | Rejected]:
    return []


def pairs_all_rejected(numbers: list[dict]) -> list[PairRow | Rejected]:
    """Every row rejected before it got its `first`: the rejected rows lack a column the kept ones would have."""
    return [Rejected({"tags": [], "parent_ids": [r["id"]]}, "no_pair") for r in numbers]


def nothing_undeclared(numbers: list[dict]) -> list:
    return []


def inspected_meanwhile(numbers: list[dict], ctx) -> list[dict]:
    """One row: what `python -m engine.inspect` printed about this run's directory while this stage ran, from
    another process, as a user would look in."""
    done = subprocess.run([sys.executable, "-m", "engine.inspect", str(ctx.run_dir)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ctx.project_root)})
    return [{"exit_code": done.returncode, "printed": done.stdout + done.stderr, "parent_ids": [numbers[0]["id"]]}]


def exported(numbers: list[dict], ctx) -> list[dict]:
    """Writes the numbers to exports/numbers.jsonl as a product of the run; fails instead when one is 99."""
    path = ctx.output_path("exports/numbers.jsonl")
    path.write_text("".join(f'{{"n": {r["n"]}}}\n' for r in numbers))
    if any(r["n"] == 99 for r in numbers):
        raise ValueError("99 is not allowed")
    return [{"file": "exports/numbers.jsonl", "rows": len(numbers)}]
