"""How the openai backend's chat completions reach the endpoint: `llm.transport`.

- `aiohttp` (the default): one aiohttp session per batch, the body serialised with orjson and the reply read as
  bytes. Measured at 64 in flight against the loopback server, the openai SDK spends ~3 ms of CPU a request in
  its own layers (httpx-style request and URL models, header merging, its response wrapper) before aiohttp sees
  the request; this path spends what aiohttp itself does, so the LLM layer keeps up with a bare client.
- `sdk`: the official client's generic `post`, for an endpoint that needs what only the SDK does.

Both raise the same two errors, so what is retried and what is recorded is decided once, in the backend:
`StatusError` for an HTTP error status (with its headers, for Retry-After) and `Unreachable` for a request that
got no reply (with whether it never reached a server, so its cost is known to be nothing). A timeout is
asyncio's TimeoutError on both. The Files and Batches APIs (llm.mode: batch) always go through the SDK.

Both log one line per request that got an answer or none (`REQUEST_LOG`, at DEBUG: off unless asked for with
`hydra.verbose=[engine.llm.wire]`, as a real run sends hundreds of thousands).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from yarl import URL

USER_AGENT = "execfeed (aiohttp)"
REQUEST_LOG = logging.getLogger(__name__)  # one DEBUG line per request, on either transport


class StatusError(Exception):
    """The endpoint answered with an HTTP error status; `message` is as the SDK words it."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class Unreachable(Exception):
    """No reply: the connection was refused, dropped or broke mid-reply. `refused`: it never reached a server."""

    def __init__(self, message: str, *, refused: bool):
        super().__init__(message)
        self.refused = refused


def status_message(status: int, body: bytes) -> str:
    """'Error code: N - <the error's message>', as the openai SDK words an error status, so both transports
    record the same error for the same reply."""
    message = f"Error code: {status}"
    try:
        parsed = json.loads(body)
    except ValueError:
        return message
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    return f"{message} - {detail}" if isinstance(detail, str) and detail else message


class AioHttpWire:
    """POSTs JSON bodies under one base URL with a bearer key, in a session opened per event loop."""

    name = "aiohttp"

    def __init__(self, base_url: str, api_key: str, timeout_s: float):
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
                         "Accept": "application/json", "User-Agent": USER_AGENT}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._urls: dict[str, URL] = {}  # parsed once: yarl's parsing is a visible cost per request
        self._session: aiohttp.ClientSession | None = None
        self._sessions = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        # an aiohttp session belongs to one event loop, and LLM.complete runs a new loop per call: open it for
        # the duration of the batch (shared by overlapping batches of one loop)
        if self._sessions == 0:
            # no connection limit here: the LLM layer's in-flight slots are the limit, across processes
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  headers=self._headers, skip_auto_headers=("Accept-Encoding",))
        self._sessions += 1
        try:
            yield
        finally:
            self._sessions -= 1
            if self._sessions == 0:
                session, self._session = self._session, None
                await session.close()

    def _url(self, path: str) -> URL:
        if (url := self._urls.get(path)) is None:
            url = self._urls[path] = URL(self._base + path)
        return url

    async def post(self, path: str, body: dict[str, Any], headers: Mapping[str, str]) -> bytes:
        """The reply body of a 2xx; StatusError, Unreachable, or asyncio.TimeoutError (past timeout_s)."""
        url = self._url(path)
        try:
            async with self._session.post(url, data=orjson.dumps(body), headers=headers) as reply:
                raw = await reply.read()
                status = reply.status
                REQUEST_LOG.debug("POST %s: HTTP %d", url, status)
                if status >= 400:
                    raise StatusError(status, status_message(status, raw), reply.headers)
                return raw
        except aiohttp.ClientConnectorError as err:  # before anything was sent
            refused = isinstance(err.os_error, ConnectionRefusedError)
            raise _unreachable(url, f"cannot connect: {err}", refused=refused) from err
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as err:
            raise _unreachable(url, f"connection dropped: {err!r}", refused=False) from err
        except aiohttp.ClientResponseError as err:  # an unreadable status line or headers
            raise _unreachable(url, f"unreadable reply: {err!r}", refused=False) from err


def _unreachable(url: object, message: str, *, refused: bool) -> Unreachable:
    REQUEST_LOG.debug("POST %s: no reply (%s)", url, message)
    return Unreachable(message, refused=refused)


class SdkWire:
    """The same POST through the official client's generic `post` (transport, auth and errors the SDK's)."""

    name = "sdk"

    def __init__(self, client: Any):
        self._client = client

    async def post(self, path: str, body: dict[str, Any], headers: Mapping[str, str]) -> bytes:
        import openai

        try:
            raw = await self._client.post(path, body=body, cast_to=bytes, options={"headers": dict(headers)})
        except openai.APIStatusError as err:
            REQUEST_LOG.debug("POST %s%s: HTTP %d", self._client.base_url, path.lstrip("/"), err.status_code)
            raise StatusError(err.status_code, err.message, err.response.headers) from err
        except openai.APIConnectionError as err:  # includes the client's timeouts; its aiohttp transport
            # reports a dropped connection, and a refused one, as a timeout, so the cause says which it was
            message = f"{err.message} ({err.__cause__!r})" if err.__cause__ else err.message
            raise _unreachable(f"{self._client.base_url}{path.lstrip('/')}", message, refused=_refused(err)) from err
        # the generic post returns the body, not the status (a 2xx: the SDK raised for any other)
        REQUEST_LOG.debug("POST %s%s: answered", self._client.base_url, path.lstrip("/"))
        return raw


def _refused(err: BaseException) -> bool:
    """Whether a ConnectionRefusedError is among the causes of `err`: the request never reached a server."""
    chain: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return any(isinstance(c, ConnectionRefusedError) for c in chain)

