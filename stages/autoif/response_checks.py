"""One row per response: how many of its constraint's surviving verifiers pass it in the sandbox (AutoIF step 7).
pass_rate = passes / verifiers; a crash, a timeout or a non-boolean value is a failure. Also runs on boundary
probes (stage probe_checks), whose text is their `response`."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TypedDict

from engine.context import Context
from engine.rows import Rejected
from engine.sandbox import Job


class CheckedResponse(TypedDict):
    """The columns every checked row has (it keeps its response row's others too: a response's, or a probe's)."""

    constraint_id: str
    response: str
    response_id: str
    parent_ids: list[str]
    n_verifiers: int
    n_pass: int
    n_failed: int
    pass_rate: float
    verifier_ids: list[str]
    outcomes: str


def response_checks(responses: list[dict], verifiers_kept: list[dict],
                    ctx: Context) -> list[CheckedResponse | Rejected]:
    verifiers: dict[str, list[dict]] = defaultdict(list)
    for v in verifiers_kept:
        verifiers[v["constraint_id"]].append(v)
    jobs, spans = [], []
    for r in responses:
        start = len(jobs)
        jobs += [Job(v["code"], "evaluate", (r["response"],)) for v in verifiers[r["constraint_id"]]]
        spans.append((start, len(jobs)))
    outcomes = ctx.sandbox.run(jobs, expect_bool=True, desc="verify responses")
    out: list = []
    for r, (start, end) in zip(responses, spans, strict=True):
        row = {**{k: v for k, v in r.items() if k not in ("id", "parent_ids")}, "response_id": r["id"],
               "parent_ids": [r["id"]]}
        if start == end:
            out.append(Rejected(row, "no_verifiers", f"constraint {r['constraint_id']} has no surviving verifier"))
            continue
        mine = outcomes[start:end]
        passes = sum(o.status == "ok" and o.value is True for o in mine)
        out.append({**row, "n_verifiers": end - start, "n_pass": passes,
                    "n_failed": sum(o.status != "ok" for o in mine), "pass_rate": passes / (end - start),
                    "verifier_ids": [v["id"] for v in verifiers[r["constraint_id"]]],
                    "outcomes": json.dumps([o.status if o.status != "ok" else o.value for o in mine])})
    return out
