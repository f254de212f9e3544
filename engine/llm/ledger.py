"""The ledger: one row per attempt at a request (table `llm_calls`), and the summary.json `llm` section.

Row semantics, relied on by `summarize`:
- `attempt` is 1, 2, ... for attempts sent to the backend and 0 for a request answered without sending
  (from the response cache, or a duplicate of a request in the same batch);
- an attempt is only ever retried after it failed, so each row with attempt > 1 follows one failed row;
- cost and tokens of an attempt are what the endpoint billed (0 cost for answers from the cache);
- an attempt cut short by a stopping run is a failed row ("cancelled while in flight"), its cost unknown;
- an attempt in flight when the run was killed is a failed row "sent, outcome unknown" (from the journal, which
  notes each attempt before it is sent), its cost unknown;
- `reason` is why a request is not ok (llm_error, truncated, refused); `retried_failure` marks an attempt at a
  request that had failed transiently in an earlier run; `cost_known` is False where the endpoint may have billed
  an attempt without saying what (timeouts, dropped connections, unreadable bodies, attempts cut short).
"""

from __future__ import annotations

import logging
from typing import TypedDict

from engine.llm.config import Price

log = logging.getLogger(__name__)


class LedgerRow(TypedDict):
    stage: str
    role: str
    task: str
    backend: str
    model: str
    key: str
    sample_index: int
    attempt: int
    cache_hit: bool
    ok: bool
    error: str | None
    reason: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float
    cost_known: bool
    retried_failure: bool
    ts: str


OUTCOME_UNKNOWN = "sent, outcome unknown (the run was killed while it was in flight)"
_warned_unpriced: set[str] = set()


def cost_usd(prices: dict[str, Price], model: str, prompt_tokens: int, completion_tokens: int, *,
             batch: bool = False) -> float:
    """The price of one attempt, online or through the Batch API; a model missing from `prices` costs 0 (warned
    once, so it is noticed)."""
    price = prices.get(model)
    if price is None:
        if prices and model not in _warned_unpriced:
            _warned_unpriced.add(model)
            log.warning("llm.prices has no entry for model %r: its calls are counted at $0", model)
        return 0.0
    paid = price.for_mode(batch)
    return (prompt_tokens * paid.input + completion_tokens * paid.output) / 1e6


def summarize(rows: list[LedgerRow]) -> dict:
    """Add up ledger rows into the summary.json `llm` section.

    calls: requests answered, fresh or from the cache (one first row each: attempt 0 or 1);
    cache_hits: requests answered from the cache or by an identical request of the same batch;
    retries: attempts beyond the first (attempt > 1);
    failures: requests whose final outcome is a failure. Each retry follows one failed attempt, so this is
    the failed rows minus the retries;
    prompt_tokens, completion_tokens, cost_usd: what was sent and billed (cache hits excluded);
    unknown_cost: attempts the endpoint may have billed without saying what (see the module docstring);
    in_flight_at_kill: attempts sent by a process that was killed before their outcome was known;
    retried_failures, healed: requests that had failed in an earlier run and were sent again; those answered.
    Rows written before a column existed count as its default (cost known, no retried failure).
    """
    sent = [r for r in rows if r["attempt"] > 0]
    retries = sum(1 for r in rows if r["attempt"] > 1)
    retried = {r["key"] for r in rows if r.get("retried_failure")}
    answered = {r["key"] for r in rows if r["ok"]}
    return {
        "calls": sum(1 for r in rows if r["attempt"] <= 1),
        "cache_hits": sum(1 for r in rows if r["cache_hit"]),
        "retries": retries,
        "failures": sum(1 for r in rows if not r["ok"]) - retries,
        "prompt_tokens": sum(r["prompt_tokens"] for r in sent),
        "completion_tokens": sum(r["completion_tokens"] for r in sent),
        "cost_usd": round(sum(r["cost_usd"] for r in sent), 6),
        "unknown_cost": sum(1 for r in sent if r.get("cost_known") is False),
        "in_flight_at_kill": sum(1 for r in sent if r["error"] == OUTCOME_UNKNOWN),
        "retried_failures": len(retried),
        "healed": len(retried & answered),
    }
