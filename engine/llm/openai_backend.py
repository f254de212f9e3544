"""The openai backend: the OpenAI chat completions protocol against any OpenAI-compatible endpoint (`base_url`).

Requests go through `llm.transport` (engine.llm.wire): a lean aiohttp client by default, or the official `openai`
client (on its aiohttp transport: its default httpx one collapses under concurrency, openai-python #1596: 63 req/s
against 500 req/s at 64 in flight); the Files and Batches APIs of llm.mode: batch always use the official client.
No transport retries; the LLM layer does (one policy for every backend, each attempt in the ledger). This module
decides what is transient (raised as Retryable) and what is a recorded failure (returned as a Response with ok=False):

retried:  429 (waiting for Retry-After / retry-after-ms when given), 408, 409, 5xx, timeouts, dropped
          connections, malformed bodies, replies with no choices;
recorded: other 4xx (bad request, auth, unknown model) as `llm_error`; finish_reason "content_filter" and a
          reply with no content (e.g. a refusal) as `refused`.
A reply cut at max_tokens comes back with finish_reason "length"; the LLM layer turns it into a `truncated`
outcome (engine.llm.client.outcome), so no stage reads it as whole.

The endpoint is part of the cache key: the same request to two servers under one model name (the loopback
sim and a paid endpoint, two vLLM servers with different checkpoints) are two entries, unless the config
declares one `endpoint_id` for both.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, nullcontext
from typing import Any

import orjson

from engine.llm.config import LLMConfig
from engine.llm.types import REFUSED, LLMConfigError, Request, Response, Retryable, TokenLogprob
from engine.llm.wire import AioHttpWire, SdkWire, StatusError, Unreachable

DEFAULT_BASE_URL = "https://api.openai.com/v1"  # the openai client's, when base_url is null and OPENAI_BASE_URL unset
SIM_FINGERPRINT = "execfeed-sim"  # system_fingerprint of the loopback server: its replies are simulated
SIM_TRUTH_FIELD = "execfeed_sim_truth"  # the loopback server's ground truth of a reply, beside the standard fields
CUSTOM_ID_SEP = "|"  # in a batch line's custom_id, between task, sample index and cache key


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or an HTTP date), if present."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def custom_id(request: Request, key: str) -> str:
    """A batch line's id: the request's cache key, after the task and sample index that the online path sends as
    X-Execfeed-* headers (a batch line has no headers; the loopback server routes a line by them)."""
    return f"{request.task}{CUSTOM_ID_SEP}{request.sample_index}{CUSTOM_ID_SEP}{key}"


def parse_custom_id(value: str) -> tuple[str, int, str]:
    """(task, sample index, cache key) of a batch line's custom_id."""
    task, sample, key = value.rsplit(CUSTOM_ID_SEP, 2)
    return task, int(sample), key


def endpoint_urls(base_url: str | list[str] | None) -> list[str]:
    """The endpoints `llm.base_url` means, for everything that sends to one (either transport, the Batch API) or
    names one (cache keys, shared limits, the preflight): a null base_url is OPENAI_BASE_URL when set, as the
    openai client reads it, else OpenAI's own. Resolved here once, so the aiohttp transport never sends to
    another server than the SDK would, nor caches its replies under another's name."""
    if isinstance(base_url, list):
        return base_url
    return [base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL]


def endpoint_url(base_url: str | None) -> str:
    """The one endpoint of a single (not fleet) `base_url`: see endpoint_urls."""
    (url,) = endpoint_urls(base_url)
    return url


def endpoint_identity(cfg: LLMConfig) -> str:
    """Which server answers, for cache keys and fingerprints: `endpoint_id` when declared, else the base_url
    (a fleet: its sorted list) with scheme and host lower-cased and no trailing slash."""
    if cfg.endpoint_id:
        return cfg.endpoint_id
    return ",".join(sorted(_normalise_url(u) for u in endpoint_urls(cfg.base_url)))


def _normalise_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def _response_format(schema: dict[str, Any]) -> dict[str, Any]:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title", "reply")))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def _loads(raw: bytes) -> Any:
    """orjson, ~5x faster than json on a reply; json where orjson refuses what Python's own encoder writes
    (NaN, Infinity: a server's -inf logprob)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


class OpenAIBackend:
    name = "openai"

    def __init__(self, cfg: LLMConfig):
        import openai

        self._openai = openai
        self.cfg = cfg
        self.api_key = cfg.api_key or os.environ.get("OPENAI_API_KEY")
        if not self.api_key:
            raise LLMConfigError(
                "llm.api_key is null and the environment has no OPENAI_API_KEY; set one of them "
                "(any string for a local endpoint such as vLLM or the loopback server)"
            )
        self.identity = endpoint_identity(cfg)
        self.base_url = endpoint_url(cfg.base_url)
        self._client: Any = None
        self._sessions = 0
        # the lean transport, when chosen; otherwise calls go through the SDK client of the open session
        self._lean = (AioHttpWire(self.base_url, self.api_key, cfg.timeout_s)
                      if cfg.transport == "aiohttp" else None)
        self._wire: Any = self._lean

    def key_parts(self, request: Request) -> dict[str, Any]:
        return {"endpoint": self.identity}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        # an aiohttp session belongs to one event loop, and LLM.complete runs a new loop per call:
        # open the client for the duration of the batch (shared by overlapping batches of one loop)
        if self._sessions == 0 and (self._lean is None or self.cfg.mode == "batch"):
            self._client = self._openai.AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.cfg.timeout_s,
                http_client=self._openai.DefaultAioHttpClient(timeout=self.cfg.timeout_s),
            )
            self._wire = self._lean or SdkWire(self._client)
        self._sessions += 1
        try:
            async with self._lean.session() if self._lean is not None else nullcontext():
                yield
        finally:
            self._sessions -= 1
            if self._sessions == 0 and self._client is not None:
                client, self._client = self._client, None
                await client.close()

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.cfg.model, "messages": request.messages}
        for name in ("temperature", "max_tokens", "top_p", "stop"):
            if (value := getattr(request, name)) is not None:
                params[name] = value
        if request.logprobs:
            params["logprobs"] = True
            if request.top_logprobs:
                params["top_logprobs"] = request.top_logprobs
        if request.json_schema is not None:
            params["response_format"] = _response_format(request.json_schema)
        return params

    @property
    def client(self) -> Any:
        """The open AsyncOpenAI client (inside `session()`), for the Files and Batches APIs (engine.llm.batch)."""
        return self._client

    def batch_line(self, request: Request, key: str) -> dict[str, Any]:
        """The request as one line of a Batch API input file: the body a call would send."""
        return {"custom_id": custom_id(request, key), "method": "POST", "url": "/v1/chat/completions",
                "body": self._params(request)}

    async def call(self, request: Request) -> tuple[Response, Any]:
        # a generic POST rather than the SDK's chat.completions.create: create() walks the body through its
        # TypedDict transform and builds a ChatCompletion model, ~0.9 ms of CPU a request together. Our body is
        # plain JSON already and the reply is read as a dict.
        headers = {"X-Execfeed-Task": request.task, "X-Execfeed-Sample": str(request.sample_index)}
        try:
            sent = self._wire.post("/chat/completions", self._params(request), headers)
            # the lean transport's session timeout bounds the whole request; the SDK's is per read
            raw = await (sent if self._lean is not None else asyncio.wait_for(sent, self.cfg.timeout_s))
        except StatusError as err:
            message = f"HTTP {err.status}: {err.message}"
            if err.status in (408, 409, 429) or err.status >= 500:
                raise Retryable(message, parse_retry_after(err.headers)) from err
            return Response(ok=False, text=None, error=message), None
        except asyncio.TimeoutError as err:  # the server may have run the model: its cost is unknown
            raise Retryable(f"timeout after {self.cfg.timeout_s}s", cost_known=False) from err
        except Unreachable as err:  # a connection refused cost nothing; a dropped one may have run the model
            raise Retryable(str(err), cost_known=err.refused) from err
        return self.read_reply(raw)

    def read_reply(self, raw: bytes) -> tuple[Response, Any]:
        """The Response, and the sim ground truth when the reply comes from the loopback server (else None)."""
        try:
            completion = _loads(raw)
        except ValueError as err:  # a 200 the endpoint may bill: its usage is unreadable
            raise Retryable(f"malformed response body: {err}: {raw[:200]!r}", cost_known=False) from err
        usage = (completion.get("usage") if isinstance(completion, dict) else None) or {}
        if not isinstance(completion, dict) or not completion.get("choices"):
            raise Retryable(f"reply has no choices: {raw[:200]!r}", cost_known=bool(usage),
                            prompt_tokens=usage.get("prompt_tokens") or 0,
                            completion_tokens=usage.get("completion_tokens") or 0)
        choice = completion["choices"][0]
        message = choice.get("message") or {}
        simulated = completion.get("system_fingerprint") == SIM_FINGERPRINT
        truth = completion.get(SIM_TRUTH_FIELD) if simulated else None
        common = {
            "finish_reason": choice.get("finish_reason"),
            "prompt_tokens": usage.get("prompt_tokens") or 0,
            "completion_tokens": usage.get("completion_tokens") or 0,
            "simulated": simulated,
        }
        if choice.get("finish_reason") == "content_filter":
            failed = Response(ok=False, text=None, error="content_filter: the endpoint withheld the reply",
                              reason=REFUSED, **common)
            return failed, truth
        if message.get("content") is None:
            refusal = message.get("refusal")
            error = f"refusal: {refusal}" if refusal else "reply has no content"
            return Response(ok=False, text=None, error=error, reason=REFUSED, **common), truth
        logprobs = None
        if (choice.get("logprobs") or {}).get("content") is not None:
            logprobs = [
                TokenLogprob(
                    t["token"],
                    t["logprob"],
                    {alt["token"]: alt["logprob"] for alt in t.get("top_logprobs") or []},
                )
                for t in choice["logprobs"]["content"]
            ]
        return Response(ok=True, text=message["content"], logprobs=logprobs, **common), truth
