"""A fleet of OpenAI-compatible endpoints behind one backend: `llm.base_url` given as a list (e.g. vLLM servers).

Each request goes to the endpoint with the fewest requests outstanding from this process (sent or waiting for
that endpoint's slot). Every endpoint keeps its own limits: `max_in_flight`, `rpm` and `tpm` hold per endpoint
and, as for one endpoint, across the processes of this machine (engine.llm.limits). An endpoint whose attempt
fails transiently (connection refused or dropped, timeout, 429, 5xx, a malformed reply) is set aside: it gets
no requests until its Retry-After, or `backoff_s * 2**(k-1)` (capped at `backoff_max_s`) after its k-th
failure in a row, has passed; then it is tried again, and one success clears its record. The failed attempt
itself is retried by the LLM layer as usual, and so lands on another endpoint.

The fleet answers as backend "openai"; its identity in the cache key is the set of its endpoints, or the
`endpoint_id` it declares (which a single `base_url` serving the same checkpoint may declare too, to share
one cache), so a reply is found whichever endpoint of the fleet would have been asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.llm.client import estimated_tokens
from engine.llm.config import LLMConfig
from engine.llm.limits import SharedRateLimit, SharedSlots, limits_dir, shared_slots
from engine.llm.openai_backend import OpenAIBackend, endpoint_identity
from engine.llm.types import Request, Response, Retryable


@dataclass
class Endpoint:
    url: str
    backend: OpenAIBackend
    slots: SharedSlots
    rate: SharedRateLimit | None
    outstanding: int = 0  # requests of this process assigned to it and not yet answered
    failures_in_a_row: int = 0
    set_aside_until: float = 0.0
    stats: dict[str, int] = field(default_factory=lambda: {"sent": 0, "ok": 0, "failed": 0, "set_aside": 0})


class Fleet:
    name = "openai"

    def __init__(self, cfg: LLMConfig, cache_dir: Path, clock: Callable[[], float] = time.monotonic):
        urls = cfg.base_url
        if not isinstance(urls, list):
            raise TypeError(f"a fleet needs base_url as a list of endpoints, found {urls!r}")
        self.cfg = cfg
        self._clock = clock
        self.endpoints = []
        for url in urls:
            shared = limits_dir(cache_dir, url)
            rate = SharedRateLimit(shared / "rate.sqlite", rpm=cfg.rpm, tpm=cfg.tpm) if cfg.rpm or cfg.tpm else None
            backend = OpenAIBackend(cfg.model_copy(update={"base_url": url}))
            self.endpoints.append(Endpoint(url, backend, shared_slots(shared, cfg.max_in_flight), rate))

    @property
    def llm_config(self) -> LLMConfig:
        """The config for the LLM around the fleet: its in-flight bound is the whole fleet's; each endpoint's
        own bound is held by that endpoint's slots."""
        return self.cfg.model_copy(update={"max_in_flight": self.cfg.max_in_flight * len(self.endpoints)})

    def key_parts(self, request: Request) -> dict[str, Any]:
        return {"endpoint": endpoint_identity(self.cfg)}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for endpoint in self.endpoints:
                await stack.enter_async_context(endpoint.backend.session())
            yield

    def pick(self) -> Endpoint:
        """The endpoint in service with the fewest outstanding requests (ties: the first listed); when every
        endpoint is set aside, the one that comes back first."""
        now = self._clock()
        ready = [e for e in self.endpoints if e.set_aside_until <= now]
        if ready:
            return min(ready, key=lambda e: e.outstanding)
        return min(self.endpoints, key=lambda e: e.set_aside_until)

    def _in_service(self) -> bool:
        now = self._clock()
        return any(e.set_aside_until <= now for e in self.endpoints)

    async def call(self, request: Request) -> tuple[Response, Any]:
        endpoint = self.pick()
        endpoint.outstanding += 1
        try:
            if (wait := endpoint.set_aside_until - self._clock()) > 0:  # the whole fleet is set aside
                await asyncio.sleep(wait)
            if endpoint.rate is not None:
                await endpoint.rate.acquire(estimated_tokens(request))
            async with endpoint.slots.slot():
                endpoint.stats["sent"] += 1
                try:
                    result = await endpoint.backend.call(request)
                except Retryable as err:
                    self._set_aside(endpoint, err.retry_after)
                    # another endpoint in service takes the retry at once; only a fleet set aside as a whole
                    # makes the retry wait for this endpoint's Retry-After
                    wait = None if self._in_service() else err.retry_after
                    raise Retryable(f"{endpoint.url}: {err}", wait) from err
        finally:
            endpoint.outstanding -= 1
        endpoint.failures_in_a_row = 0
        endpoint.stats["ok"] += 1
        return result

    def _set_aside(self, endpoint: Endpoint, retry_after: float | None) -> None:
        endpoint.failures_in_a_row += 1
        endpoint.stats["failed"] += 1
        endpoint.stats["set_aside"] += 1
        pause = retry_after if retry_after is not None else min(
            self.cfg.backoff_max_s, self.cfg.backoff_s * 2 ** (endpoint.failures_in_a_row - 1))
        endpoint.set_aside_until = max(endpoint.set_aside_until, self._clock() + pause)
