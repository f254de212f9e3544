"""The LLM a stage talks to: cache, concurrency, rate limits, retries and the ledger around one backend.

A backend only answers one request per attempt: `await backend.call(request) -> (Response, sim truth)`,
raising Retryable for a transient failure. Everything around that is here, the same for every backend:

    request -> resolve sampling defaults -> cache key -> cached?  yes: answer, ledger row (attempt 0)
                                                              no: in-flight slot, rate budget, call,
                                                                  retry with backoff, ledger row per attempt,
                                                                  store the answer the moment it arrives
            -> outcome: a reply cut at max_tokens becomes `truncated` (or its whole lines), a withheld one
               `refused` after one more try, a transient failure `llm_error` (never cached: the next run retries)

With `llm.mode: batch` the requests not in the cache go through the provider's Batch API instead of a call
each (engine.llm.batch); their answers are settled the same way (`_settle`), and priced at the batch price.

When the endpoint is plainly down (the first `stop_after_failures` requests all failed) or a batch fails more
than `max_failure_rate`, the batch stops with EndpointDown naming the endpoint, instead of sending thousands of
doomed requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, timezone
from typing import Any, Protocol

from tqdm import tqdm

from engine.llm.cache import LEASE_STALE_S, ResponseCache, cache_key, lease_owner
from engine.llm.cache_writes import TurnWrites
from engine.llm.config import LLMConfig
from engine.llm.gc_pause import fewer_collections
from engine.llm.ledger import OUTCOME_UNKNOWN, LedgerRow, cost_usd
from engine.llm.limits import SharedRateLimit, SharedSlots
from engine.llm.types import (
    REFUSED,
    TRANSIENT,
    TRUNCATED,
    EndpointDown,
    LLMConfigError,
    Request,
    Response,
    Retryable,
)


class Backend(Protocol):
    name: str

    def key_parts(self, request: Request) -> dict[str, Any]:
        """What besides model, messages and sampling decides this backend's reply (e.g. the sim seed)."""

    def session(self) -> AbstractAsyncContextManager[None]:
        """Open per-event-loop resources (an HTTP client) for the duration of one batch."""

    async def call(self, request: Request) -> tuple[Response, Any]: ...


NOT_IN_KEY = ("task", "truncation")  # a ledger tag, and what the LLM layer does with a cut reply
KEY_FIELDS = tuple(f.name for f in dataclasses.fields(Request) if f.name not in NOT_IN_KEY)
LEASE_POLL_S = 0.2  # how often a request another process is sending is looked for in the cache


def outcome(request: Request, response: Response) -> Response:
    """What a stage gets for a reply: a reply cut at max_tokens is never whole. With `truncation="whole_lines"`
    its complete lines are kept (the cut last line in `partial`), with "prefix" it is passed on as the stage
    asked, otherwise it is a `truncated` failure."""
    if not (response.ok and response.finish_reason == "length") or request.truncation == "prefix":
        return response
    text = response.text or ""
    cut = f"cut at max_tokens={request.max_tokens} (finish_reason: length): ...{text[-120:]!r}"
    if request.truncation == "whole_lines" and "\n" in text.rstrip("\n"):
        whole, _, last = text.rstrip("\n").rpartition("\n")
        return dataclasses.replace(response, text=whole, partial=last)
    return dataclasses.replace(response, ok=False, text=None, partial=text, reason=TRUNCATED, error=cut)


def estimated_tokens(request: Request) -> int:
    """What a request may spend from the tokens-per-minute budget, known before sending it: ~4 characters a
    prompt token, plus the whole completion allowance."""
    prompt = sum(len(m.get("content") or "") for m in request.messages) // 4 + 4 * len(request.messages)
    return prompt + (request.max_tokens or 0)


class LLM:
    def __init__(
        self,
        cfg: LLMConfig,
        backend: Backend,
        *,
        stage: str,
        role: str,
        cache: ResponseCache,
        ledger: list,
        truth: list,
        slots: SharedSlots | None = None,
        rate: SharedRateLimit | None = None,
        answered: set[tuple[str, str]] | None = None,
        batches: Any = None,
    ):
        self.cfg = cfg
        self.batches = batches  # mode batch: the engine.llm.batch.BatchJournal of open batches
        self.backend = backend
        self.stage = stage
        self.role = role
        self._cache = cache
        self._ledger = ledger
        self._truth = truth
        self._slots = slots
        self._rate = rate
        # (stage, key) already in this run directory's account when the run began: a resumed stage's cache hits
        # are not counted again (a repeated request within the run still is)
        self._answered = answered if answered is not None else set()
        # journals an attempt before it is sent, when the ledger can (a run killed meanwhile knows it was sent)
        self._journal_sending = getattr(ledger, "sending", None)
        # the SQLite cache notes transient failures, so a rerun can count what it healed; other caches do not
        self._failed_before = getattr(cache, "failed_keys", lambda keys: set())
        self._mark_failed = getattr(cache, "mark_failed", None)
        # answers stored and claims released once per event-loop turn, where the cache can (engine.llm.cache_writes)
        self._writes = TurnWrites(cache, lambda row: self._ledger.append(row)) if hasattr(cache, "write_many") else None
        # final outcomes of the requests this LLM sent, for EndpointDown
        self.sent = self.failed = 0
        self._last_error: str | None = None
        self._down: EndpointDown | None = None  # set once the endpoint is found down: nothing more is sent

    # ------------------------------------------------------------------------------------------ entry points

    def complete(self, requests: Sequence[Request], desc: str | None = None) -> list[Response]:
        """One Response per Request, in order. Synchronous: runs its own event loop (in a helper thread when
        the caller already runs one, e.g. a notebook)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.acomplete(requests, desc))
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.acomplete(requests, desc)).result()

    async def acomplete(self, requests: Sequence[Request], desc: str | None = None) -> list[Response]:
        with fewer_collections():  # thousands of young objects in flight: engine.llm.gc_pause
            return await self._complete(requests, desc)

    async def _complete(self, requests: Sequence[Request], desc: str | None) -> list[Response]:
        resolved = [self._resolve(r) for r in requests]
        keys = [self._key(r) for r in resolved]
        cached = self._cache.get_many(keys) if self.cfg.cache != "off" else {}
        responses: list[Response | None] = [None] * len(resolved)
        to_send: dict[str, int] = {}  # key -> index of the one request sent for it
        bar = tqdm(
            total=len(resolved),
            desc=desc or f"{self.stage}/{self.role}",
            file=sys.stderr,
            disable=not self.cfg.progress,
            unit="req",
        )
        for i, (request, key) in enumerate(zip(resolved, keys, strict=True)):
            if key in cached:
                response, truth = cached[key]
                responses[i] = dataclasses.replace(response, cached=True, key=key)
                if (self.stage, key) not in self._answered:
                    self._record(request, key, responses[i], attempt=0, cache_hit=True, latency_s=0.0)
                    self._record_truth(request, key, truth)
                bar.update()
            elif key not in to_send:
                to_send[key] = i
        in_flight = asyncio.Semaphore(self.cfg.max_in_flight)
        retrying = self._failed_before(list(to_send)) if to_send else set()
        try:
            async with self.backend.session():
                if self.cfg.mode == "batch" and to_send:
                    from engine.llm.batch import send_batched  # the Batch API instead of a call per request

                    answers = await send_batched(self, resolved, to_send, bar, retrying)
                else:
                    answers = await self._send_once(resolved, to_send, in_flight, bar, retrying)
            sent = list(answers.values())
            for i, (request, key) in enumerate(zip(resolved, keys, strict=True)):
                if responses[i] is not None:
                    continue
                responses[i] = answers[key]
                if to_send[key] != i:  # an identical request earlier in the batch: answered once, paid once
                    responses[i] = dataclasses.replace(answers[key], cached=answers[key].ok)
                    self._record(request, key, responses[i], attempt=0, cache_hit=answers[key].ok, latency_s=0.0)
                    bar.update()
        finally:
            bar.close()
            if self._writes is not None:
                self._writes.flush()
        self._check_failure_rate(len(to_send), sum(1 for r in sent if r.reason == TRANSIENT) if to_send else 0)
        return [outcome(request, r) for request, r in zip(resolved, responses, strict=True)]  # type: ignore[arg-type]

    async def _send_once(self, resolved: list[Request], to_send: dict[str, int], in_flight: asyncio.Semaphore,
                         bar: tqdm, retrying: set[str]) -> dict[str, Response]:
        """Send each request not in the cache, once across the processes sharing the cache: a request another
        live process has claimed is awaited from the cache instead (and sent here if that process dies)."""
        claim = getattr(self._cache, "claim", None)
        if claim is None or self.cfg.cache != "readwrite" or not to_send:
            sent = await self._gather([self._send(resolved[i], k, in_flight, bar, k in retrying)
                                       for k, i in to_send.items()])
            return dict(zip(to_send, sent, strict=True))
        owner = lease_owner(self)
        beat = asyncio.ensure_future(self._heartbeat(owner))
        tasks: dict[str, asyncio.Future] = {}
        answers: dict[str, Response] = {}
        try:
            awaited = list(to_send)
            while True:
                mine = claim(awaited, owner)
                # looked up after claiming: a sender stores its answer before it lets go of the claim, so a key
                # claimed here is either answered already (another process just finished it) or still to send
                for key, (response, truth) in self._cache.get_many(awaited).items():
                    answers[key] = dataclasses.replace(response, cached=True, key=key)
                    request = resolved[to_send[key]]
                    self._record(request, key, answers[key], attempt=0, cache_hit=True, latency_s=0.0)
                    self._record_truth(request, key, truth)
                    bar.update()
                self._cache.release([k for k in mine if k in answers], owner)
                for key in (k for k in awaited if k in mine and k not in answers):
                    tasks[key] = asyncio.ensure_future(
                        self._send_claimed(resolved[to_send[key]], key, owner, in_flight, bar, key in retrying))
                awaited = [k for k in awaited if k not in answers and k not in tasks]
                if not awaited:
                    break
                await asyncio.sleep(LEASE_POLL_S)  # another process is sending these: wait for its answers
            sent = await self._gather(list(tasks.values()))
        finally:
            beat.cancel()
        answers.update(zip(tasks, sent, strict=True))
        return {k: answers[k] for k in to_send}

    async def _send_claimed(self, request: Request, key: str, owner: str, in_flight: asyncio.Semaphore, bar: tqdm,
                            retrying: bool) -> Response:
        try:
            return await self._send(request, key, in_flight, bar, retrying)
        finally:
            if self._writes is not None:
                self._writes.release(key, owner)
            else:
                self._cache.release([key], owner)

    async def _heartbeat(self, owner: str) -> None:
        while True:
            self._cache.heartbeat(owner)
            await asyncio.sleep(LEASE_STALE_S / 4)

    async def _gather(self, sends: list) -> list[Response]:
        """Run the sends; when one finds the endpoint down, cancel the rest (each recorded as cancelled)."""
        tasks = [asyncio.ensure_future(s) for s in sends]  # coroutines, or tasks already running
        try:
            return await asyncio.gather(*tasks)
        except EndpointDown:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def endpoint(self) -> str:
        """The endpoint, as the user configured it, for messages."""
        url = self.cfg.base_url
        return ", ".join(url) if isinstance(url, list) else (url or "the backend's default endpoint")

    def _endpoint_down(self, why: str, last_error: str | None) -> EndpointDown:
        where = f"roles.{self.role}.base_url or llm.base_url" if self.role else "llm.base_url"
        return EndpointDown(
            f"{why} at {self.endpoint()} ({where}; backend {self.backend.name}, model {self.cfg.model!r}); "
            f"last error: {last_error}. Nothing is lost: answered requests are cached, and rerunning the same "
            "command retries the failed ones"
        )

    def _check_failure_rate(self, sent: int, failed: int) -> None:
        limit = self.cfg.max_failure_rate
        if sent >= self.cfg.stop_after_failures and failed > limit * sent:
            raise self._endpoint_down(
                f"{failed} of {sent} requests of stage {self.stage!r} failed (more than llm.max_failure_rate={limit})",
                self._last_error,
            )

    def classify(self, pairs: Sequence[tuple[str, str]], task: str = "hf.classify") -> list[dict[str, float]]:
        """Label probabilities for (premise, hypothesis) pairs, e.g. NLI; only the hf backend classifies."""
        classify = getattr(self.backend, "classify", None)
        if classify is None:
            raise LLMConfigError(
                f"role {self.role!r} (stage {self.stage!r}) uses backend {self.backend.name!r}, "
                "which cannot classify; use backend: hf with a sequence-classification model"
            )
        started = time.perf_counter()
        results, token_counts = classify(list(pairs))
        latency = (time.perf_counter() - started) / max(1, len(pairs))
        for (premise, hypothesis), n_tokens in zip(pairs, token_counts, strict=True):
            request = Request(
                messages=[{"role": "user", "content": premise}, {"role": "user", "content": hypothesis}],
                task=task,
            )
            done = Response(ok=True, text=None, finish_reason="classify", prompt_tokens=n_tokens)
            self._record(request, self._key(request), done, attempt=1, cache_hit=False, latency_s=latency)
        return results

    # ---------------------------------------------------------------------------------------------- sending

    async def _send(
        self, request: Request, key: str, in_flight: asyncio.Semaphore, bar: tqdm, retrying: bool = False
    ) -> Response:
        # A plain loop rather than tenacity: it costs nothing on the hot path (tenacity's machinery was a
        # third of this layer's CPU per request at 64 in flight) and keeps one ledger row per attempt visible.
        attempt = 0
        while True:
            attempt += 1
            try:
                response, truth, row = await self._attempt(request, key, attempt, in_flight, retrying)
            except Retryable as err:
                if attempt > self.cfg.max_retries:
                    response = Response(ok=False, text=None, error=f"{err} (gave up after {attempt} attempts)", key=key)
                    self._settle(request, key, response, None)
                    bar.update()
                    return response
                await asyncio.sleep(self._backoff(attempt, err))
                continue
            if response.reason == REFUSED and attempt == 1:
                self._ledger.append(row)
                continue  # a refusal may be a fluke of sampling: one more try, then it is final
            break
        self._settle(request, key, response, truth, row)
        bar.update()
        return response

    def _settle(self, request: Request, key: str, response: Response, truth: Any, row: LedgerRow | None = None) -> None:
        """A request's final outcome, however it was sent: counted, and cached when it is a final answer (a
        transient failure is only marked, and retried by the next run).

        `row`, the ledger row of the attempt that answered, is journaled only once the answer is in the cache: a
        run killed in between leaves that attempt "sent, outcome unknown" and the next run answers it from the
        cache. Journaled first, the account would hold an answer the cache lost, paid for twice by the next run."""
        answer = response.ok or response.reason == REFUSED
        stored = answer and self.cfg.cache == "readwrite"
        if row is not None and not stored:  # nothing to store first; recorded before _final may stop the batch
            self._ledger.append(row)
        self._final(response, key)
        if not answer:
            return
        self._record_truth(request, key, truth)
        if not stored:
            return
        if self._writes is not None:
            self._writes.put(key, response, truth, row)
            return
        self._cache.put(key, response, truth)
        if row is not None:
            self._ledger.append(row)

    def _final(self, response: Response, key: str) -> None:
        """Count a request's final outcome; stop the batch when the endpoint has answered none of the first ones."""
        self.sent += 1
        if response.reason != TRANSIENT:
            return
        self.failed += 1
        self._last_error = response.error
        if self._mark_failed is not None and self.cfg.cache == "readwrite":
            self._mark_failed(key, response.error)
        n = self.cfg.stop_after_failures
        if n and self.failed == self.sent == n:
            self._down = self._endpoint_down(f"the first {n} requests all failed", response.error)
            raise self._down

    def _backoff(self, attempt: int, err: Retryable) -> float:
        """The server's Retry-After when it gave one, else exponential backoff with full jitter."""
        if err.retry_after is not None:
            return err.retry_after
        return random.uniform(0, min(self.cfg.backoff_max_s, self.cfg.backoff_s * 2 ** (attempt - 1)))

    async def _attempt(
        self, request: Request, key: str, attempt: int, in_flight: asyncio.Semaphore, retrying: bool = False
    ) -> tuple[Response, Any, LedgerRow]:
        """One attempt; a failure is recorded here, an answer's ledger row is returned for `_settle`."""
        async with in_flight:
            if self._down is not None:  # found down meanwhile: send nothing more
                raise self._down
            if self._rate is not None:
                await self._rate.acquire(estimated_tokens(request))
            async with self._slots.slot() if self._slots is not None else nullcontext():
                started = time.perf_counter()
                if self._journal_sending is not None:
                    self._journal_sending(self._row(request, key, None, attempt=attempt, cache_hit=False,
                                                    latency_s=0.0, retried_failure=retrying))
                try:
                    response, truth = await self.backend.call(request)
                except (Retryable, asyncio.CancelledError) as err:
                    # a cancelled attempt (the run is stopping) is recorded too: the endpoint may bill it anyway
                    cancelled = isinstance(err, asyncio.CancelledError)
                    if cancelled:
                        failed = Response(ok=False, text=None, error="cancelled while in flight")
                    else:
                        failed = Response(ok=False, text=None, error=str(err), prompt_tokens=err.prompt_tokens,
                                          completion_tokens=err.completion_tokens)
                    # the endpoint may bill an attempt cancelled in flight, timed out, or answered unreadably
                    self._record(request, key, failed, attempt=attempt, cache_hit=False,
                                 latency_s=time.perf_counter() - started, retried_failure=retrying,
                                 cost_known=not cancelled and err.cost_known)
                    raise
                except LLMConfigError:
                    raise
                except Exception as err:  # a bug or an unforeseen reply: record it, never lose the request
                    response, truth = (
                        Response(ok=False, text=None, error=f"{type(err).__name__}: {err}"),
                        None,
                    )
        response = dataclasses.replace(response, key=key)
        latency_s = time.perf_counter() - started if response.compute_s is None else response.compute_s
        row = self._row(request, key, response, attempt=attempt, cache_hit=False, latency_s=latency_s,
                        retried_failure=retrying)
        return response, truth, row

    # -------------------------------------------------------------------------------------- keys and records

    def _resolve(self, request: Request) -> Request:
        defaults = self.cfg.sampling
        return dataclasses.replace(
            request,
            temperature=defaults.temperature if request.temperature is None else request.temperature,
            top_p=defaults.top_p if request.top_p is None else request.top_p,
            max_tokens=defaults.max_tokens if request.max_tokens is None else request.max_tokens,
        )

    def _key(self, request: Request) -> str:
        parts = {name: getattr(request, name) for name in KEY_FIELDS}
        return cache_key(
            {
                "backend": self.backend.name,
                "model": self.cfg.model,
                **parts,
                **self.backend.key_parts(request),
            }
        )

    def _row(
        self,
        request: Request,
        key: str,
        response: Response | None,
        *,
        attempt: int,
        cache_hit: bool,
        latency_s: float,
        retried_failure: bool = False,
        cost_known: bool = True,
    ) -> LedgerRow:
        """One ledger row; `response` None is an attempt being sent, its outcome not yet known."""
        sent = attempt > 0
        r = response or Response(ok=False, text=None, error=OUTCOME_UNKNOWN)
        return {
            "stage": self.stage,
            "role": self.role,
            "task": request.task,
            "backend": self.backend.name,
            "model": self.cfg.model,
            "key": key,
            "sample_index": request.sample_index,
            "attempt": attempt,
            "cache_hit": cache_hit,
            "ok": r.ok,
            "error": r.error,
            "reason": r.reason,
            "finish_reason": r.finish_reason,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "latency_s": round(latency_s, 6),
            "cost_usd": cost_usd(self.cfg.prices, self.cfg.model, r.prompt_tokens, r.completion_tokens,
                                 batch=self.cfg.mode == "batch")
            if sent
            else 0.0,
            "cost_known": cost_known and response is not None,
            "retried_failure": retried_failure,
            "ts": datetime.now(timezone.utc).isoformat(),
        }

    def _record(self, request: Request, key: str, response: Response, **kwargs: Any) -> None:
        self._ledger.append(self._row(request, key, response, **kwargs))

    def _record_truth(self, request: Request, key: str, truth: Any) -> None:
        # sim in process, or the loopback server serving sim over HTTP (it sends the truth with the reply)
        if self.backend.name == "sim" or truth is not None:
            self._truth.append({"key": key, "stage": self.stage, "task": request.task, "truth": json.dumps(truth)})
