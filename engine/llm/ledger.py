"""The ledger: one row per attempt at a request (table `llm_calls`), and the summary.json `llm` section.

Row semantics, relied on by `summarize`:
- `attempt` is 1, 2, ... for attempts sent to the backend and 0 for a request answered without sending
  (from the response cache, or a duplicate of a request in the same batch);
- an attempt is only ever retried after it failed, so each row with attempt > 1 follows one failed row;
- cost and tokens of an attempt are what the endpoint billed (0 cost for answers from the cache);
- an attempt cut short by a stopping run is a failed row ("cancelled while in flight"), its cost unknown.
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
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float
    ts: str


_warned_unpriced: set[str] = set()


def cost_usd(prices: dict[str, Price], model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of one attempt; a model missing from `prices` costs 0 (warned once, so it is noticed)."""
    price = prices.get(model)
    if price is None:
        if prices and model not in _warned_unpriced:
            _warned_unpriced.add(model)
            log.warning("llm.prices has no entry for model %r: its calls are counted at $0", model)
        return 0.0
    return (prompt_tokens * price.input + completion_tokens * price.output) / 1e6


def summarize(rows: list[LedgerRow]) -> dict:
    """Add up ledger rows into the summary.json `llm` section.

    calls: requests answered, fresh or from the cache (one first row each: attempt 0 or 1);
    cache_hits: requests answered from the cache or by an identical request of the same batch;
    retries: attempts beyond the first (attempt > 1);
    failures: requests whose final outcome is a failure. Each retry follows one failed attempt, so this is
    the failed rows minus the retries;
    prompt_tokens, completion_tokens, cost_usd: what was sent and billed (cache hits excluded).
    """
    sent = [r for r in rows if r["attempt"] > 0]
    retries = sum(1 for r in rows if r["attempt"] > 1)
    return {
        "calls": sum(1 for r in rows if r["attempt"] <= 1),
        "cache_hits": sum(1 for r in rows if r["cache_hit"]),
        "retries": retries,
        "failures": sum(1 for r in rows if not r["ok"]) - retries,
        "prompt_tokens": sum(r["prompt_tokens"] for r in sent),
        "completion_tokens": sum(r["completion_tokens"] for r in sent),
        "cost_usd": round(sum(r["cost_usd"] for r in sent), 6),
    }
