"""The response cache's writes of one event-loop turn, in one transaction.

At 64 requests in flight several replies land in each turn of the loop; storing each answer and releasing its
claim one by one is three SQLite transactions a request (~80 us of CPU, a fifth of the LLM layer's cost), in one
transaction a turn ~16 us. The writes are made at the end of the turn they were asked in, before the loop waits
for anything again, so an answer is stored as soon as it would have been, give or take the other replies of the
same turn: a run killed in between loses no more than one killed just before they arrived. An answer is stored
before its claim is released (ResponseCache.write_many), as one by one, and its ledger row is recorded after both
(engine.llm.client.LLM._settle says why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.llm.cache import ResponseCache
from engine.llm.types import Response


class TurnWrites:
    def __init__(self, cache: ResponseCache, record: Callable[[dict], None]):
        self._cache = cache
        self._record = record
        self._puts: list[tuple[str, Response, Any]] = []
        self._rows: list[dict] = []
        self._releases: list[tuple[str, str]] = []
        self._scheduled = False
        self._error: BaseException | None = None

    def put(self, key: str, response: Response, truth: Any, row: dict | None = None) -> None:
        """Store an answer; `row`, the ledger row of the attempt that got it, is recorded once it is stored."""
        self._puts.append((key, response, truth))
        if row is not None:
            self._rows.append(row)
        self._schedule()

    def release(self, key: str, owner: str) -> None:
        self._releases.append((key, owner))
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside a loop: write now
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self._flush_in_loop)

    def _flush_in_loop(self) -> None:
        # a callback's exception would only be logged by the loop: kept, and raised by `flush` at the batch's end
        try:
            self.flush()
        except Exception as err:  # noqa: BLE001
            self._error = self._error or err

    def flush(self) -> None:
        """Write what is pending now; raises the error of an earlier turn's writes, if one failed."""
        self._scheduled = False
        puts, releases, self._puts, self._releases = self._puts, self._releases, [], []
        rows, self._rows = self._rows, []
        try:
            if puts or releases:
                self._cache.write_many(puts, releases)
        finally:  # paid for, so recorded even where the cache could not store them
            for row in rows:
                self._record(row)
        if self._error is not None:
            error, self._error = self._error, None
            raise error
