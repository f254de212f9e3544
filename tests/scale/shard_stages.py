"""Stages for the executor tests: a model call, a sandbox execution and a draw from ctx.rng per row, so a
sharded run exercises every way a shard's result could depend on where it ran."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from engine.context import Context
from engine.llm import Request
from engine.rows import Rejected
from engine.sandbox import Job

VERIFIER = "def evaluate(text):\n    return len(text.split()) % 3 != 0\n"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # a worker that finds this file renames it away (so only one does) and kills itself mid-shard
    kill_switch: str = ""


def _claim(path: str) -> bool:
    if not path:
        return False
    try:
        os.rename(path, path + ".claimed")
    except FileNotFoundError:
        return False
    return True


def answers_checked(questions: list[dict], params: Params, ctx: Context) -> list:
    """One row per question: the teacher's reply, a sandboxed verdict on it, and a seeded draw."""
    requests = [Request([{"role": "user", "content": q["text"]}], task="generic.echo") for q in questions]
    teacher = ctx.llm("teacher")
    if questions and _claim(params.kill_switch):
        teacher.complete(requests[: len(requests) // 2])  # half the shard's replies are in the cache
        Path(params.kill_switch + ".claimed").write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    replies = teacher.complete(requests)
    outcomes = ctx.sandbox.run([Job(VERIFIER, "evaluate", (r.text or "",)) for r in replies])
    out: list = []
    for q, reply, outcome in zip(questions, replies, outcomes, strict=True):
        row = {"question": q["text"], "reply": reply.text, "llm_key": reply.key, "draw": ctx.rng.random(),
               "parent_ids": [q["id"]]}
        if not reply.ok:
            out.append(Rejected(row, "llm_error", reply.error))
        elif outcome.value is not True:
            out.append(Rejected(row, "verifier_says_no", outcome.status))
        else:
            out.append(row)
    return out


def doubled(row: dict) -> dict:
    return {"n": row["n"] * 2}
