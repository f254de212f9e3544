"""llm.mode: batch: a stage's requests that are not in the response cache go through the provider's Batch API
(OpenAI: half the price, answered within the completion window, in practice minutes to hours) instead of a call
each.

    pending requests -> JSONL input files (at most batch.max_requests lines and batch.max_bytes each)
      -> upload (Files API) -> journal (file, keys) -> create the batch -> journal its id
      -> poll every batch.poll_s (the progress bar counts what the batch object says is done)
      -> output and error files -> a Response per custom_id, settled as an online reply is (LLM._settle: the
         ledger row at the batch price, the response cache, mark_failed), so `outcome` still makes a cut reply
         `truncated` and a withheld one `refused`

A failed line (a non-200 status, an unreadable body) is `llm_error`: not cached, marked failed, so a rerun
resubmits only those. A refusal gets its one more try in a second batch, as online. A batch that expired or was
cancelled is reported; its answered lines are kept and the rest resubmitted (at most llm.max_retries times).

Resumable: the journal (`llm_batches.sqlite` beside the response cache) notes the uploaded file and the keys it
holds before the batch is created, and the batch id right after. A run killed meanwhile, rerun, finds its keys in
an open entry and re-attaches to that batch (found by its input file when the id never reached the journal)
instead of paying again: any run sharing the cache directory does (a fresh run directory, a sweep job). Two
processes that submit the same keys at the same moment both pay: batch mode does not claim keys as online does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from engine.llm.config import BatchSettings
from engine.llm.openai_backend import parse_custom_id, parse_retry_after
from engine.llm.types import REFUSED, TRANSIENT, Request, Response, Retryable
from engine.sqlite_wal import connect_wal

if TYPE_CHECKING:
    from engine.llm.client import LLM

log = logging.getLogger(__name__)

ENDED = {"completed", "failed", "expired", "cancelled"}  # a batch in any other status may still answer
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS batches (file_id TEXT PRIMARY KEY, batch_id TEXT, endpoint TEXT NOT NULL,"
    " created REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS batch_keys (key TEXT NOT NULL, file_id TEXT NOT NULL, PRIMARY KEY (key, file_id))",
]


class BatchJournal:
    """Which batches are open and which request keys each holds: a SQLite file shared like the response cache."""

    def __init__(self, path: Path):
        self._db = connect_wal(path, SCHEMA)

    def uploaded(self, file_id: str, endpoint: str, keys: list[str]) -> None:
        """Note an input file about to become a batch (before it does: a run killed meanwhile finds it)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("INSERT INTO batches VALUES (?, NULL, ?, ?, 0)", (file_id, endpoint, time.time()))
            self._db.executemany("INSERT OR IGNORE INTO batch_keys VALUES (?, ?)", [(k, file_id) for k in keys])
        finally:
            self._db.execute("COMMIT")

    def submitted(self, file_id: str, batch_id: str) -> None:
        self._db.execute("UPDATE batches SET batch_id = ? WHERE file_id = ?", (batch_id, file_id))

    def done(self, file_id: str) -> None:
        """Its answers are settled (or it never became a batch): no run re-attaches to it."""
        self._db.execute("UPDATE batches SET done = 1 WHERE file_id = ?", (file_id,))

    def open_for(self, keys: list[str]) -> list[tuple[str, str | None, list[str]]]:
        """(file id, batch id or None, the given keys it holds) of each open batch holding some of `keys`."""
        wanted = set(keys)
        held: dict[tuple[str, str | None], list[str]] = {}
        rows = self._db.execute("SELECT b.file_id, b.batch_id, k.key FROM batches b JOIN batch_keys k"
                                " ON k.file_id = b.file_id WHERE NOT b.done ORDER BY b.created, k.key")
        for file_id, batch_id, key in rows:
            if key in wanted:
                held.setdefault((file_id, batch_id), []).append(key)
        return [(file_id, batch_id, keys) for (file_id, batch_id), keys in held.items()]


@dataclass
class OpenBatch:
    file_id: str
    batch_id: str
    keys: list[str]  # the keys of this call it answers


async def send_batched(llm: LLM, resolved: list[Request], to_send: dict[str, int], bar: tqdm,
                       retrying: set[str]) -> dict[str, Response]:
    """Answer each key of `to_send` (key -> index in `resolved`) through the Batch API; the Responses by key."""
    answers: dict[str, Response] = {}
    attempts = dict.fromkeys(to_send, 1)
    settled_before = bar.n  # answered from the cache
    opened = await _reattach(llm, list(to_send))
    waiting = {k for b in opened for k in b.keys}
    pending = [k for k in to_send if k not in waiting]
    while True:
        opened += await _submit(llm, resolved, to_send, pending)
        if not opened:
            return answers
        ended = await _wait(llm, opened, bar, settled_before + len(answers))
        pending = []
        for b in opened:
            pending += await _collect(llm, b, ended[b.batch_id], resolved, to_send, attempts, retrying, answers)
            bar.n = settled_before + len(answers)
            bar.refresh()
        opened = []


# --------------------------------------------------------------------------------------------- submitting


def _split(keys: list[str], lines: list[str], limits: BatchSettings) -> Iterator[tuple[list[str], bytes]]:
    """The lines in input files of at most `limits.max_requests` lines and `limits.max_bytes` bytes."""
    chunk: list[tuple[str, str]] = []
    size = 0
    for key, line in zip(keys, lines, strict=True):
        n = len(line.encode()) + 1
        if chunk and (len(chunk) == limits.max_requests or size + n > limits.max_bytes):
            yield [k for k, _ in chunk], "".join(f"{text}\n" for _, text in chunk).encode()
            chunk, size = [], 0
        chunk.append((key, line))
        size += n
    if chunk:
        yield [k for k, _ in chunk], "".join(f"{text}\n" for _, text in chunk).encode()


async def _submit(llm: LLM, resolved: list[Request], to_send: dict[str, int], keys: list[str]) -> list[OpenBatch]:
    client = llm.backend.client
    lines = [json.dumps(llm.backend.batch_line(resolved[to_send[k]], k), ensure_ascii=False) for k in keys]
    opened = []
    for part, data in _split(keys, lines, llm.cfg.batch):
        file = await _api(llm, "upload a batch input file", client.files.create,
                          file=(f"{llm.stage}.jsonl", data, "application/jsonl"), purpose="batch")
        llm.batches.uploaded(file.id, llm.endpoint(), part)  # from here on, a killed run re-attaches
        batch = await _create(llm, file.id)
        llm.batches.submitted(file.id, batch.id)
        log.info("stage %s: batch %s submitted (%d requests, %d bytes)", llm.stage, batch.id, len(part), len(data))
        opened.append(OpenBatch(file.id, batch.id, part))
    return opened


async def _create(llm: LLM, file_id: str) -> Any:
    """Create the batch of an input file once: after a failed attempt, whose request may have arrived, look for
    the batch before asking again."""
    for attempt in itertools.count(1):
        if attempt > 1 and (found := await _find(llm, file_id)) is not None:
            return found
        try:
            return await llm.backend.client.batches.create(
                input_file_id=file_id, endpoint="/v1/chat/completions",
                completion_window=llm.cfg.batch.completion_window,
                metadata={"execfeed_stage": llm.stage, "execfeed_role": llm.role})
        except Exception as err:  # noqa: BLE001 - sorted by _pause_or_raise
            await _pause_or_raise(llm, "create a batch", err, attempt)


async def _find(llm: LLM, file_id: str) -> Any | None:
    """The batch made of input file `file_id`, if there is one (among the provider's recent batches)."""
    page = await _api(llm, "list batches", llm.backend.client.batches.list, limit=100)
    async for batch in page:
        if batch.input_file_id == file_id:
            return batch
    return None


async def _reattach(llm: LLM, keys: list[str]) -> list[OpenBatch]:
    """The open batches of earlier runs holding some of `keys`: awaited instead of sent again."""
    opened = []
    for file_id, batch_id, held in llm.batches.open_for(keys):
        if batch_id is None:  # killed between upload and create (or while creating)
            found = await _find(llm, file_id)
            if found is None:
                llm.batches.done(file_id)  # never became a batch: its requests are submitted afresh
                continue
            batch_id = found.id
            llm.batches.submitted(file_id, batch_id)
        log.warning("stage %s: re-attached to batch %s (%d requests) submitted by an earlier run; nothing is sent "
                    "again", llm.stage, batch_id, len(held))
        opened.append(OpenBatch(file_id, batch_id, held))
    return opened


# ---------------------------------------------------------------------------------------- waiting, reading


async def _wait(llm: LLM, opened: list[OpenBatch], bar: tqdm, settled: int) -> dict[str, Any]:
    """Poll until every batch has ended; the last batch object of each, by id."""
    ended: dict[str, Any] = {}
    while True:
        done = 0
        for b in opened:
            batch = ended.get(b.batch_id) or await _api(llm, "look at a batch", llm.backend.client.batches.retrieve,
                                                        b.batch_id)
            if batch.status in ENDED:
                ended[b.batch_id] = batch
            counts = batch.request_counts
            done += min(len(b.keys), counts.completed + counts.failed) if counts else 0
        bar.n = min(bar.total, settled + done)
        bar.refresh()
        if len(ended) == len(opened):
            return ended
        await asyncio.sleep(llm.cfg.batch.poll_s)


async def _lines(llm: LLM, batch: Any) -> dict[str, dict]:
    """The output and error lines of an ended batch, by cache key."""
    lines = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            content = await _api(llm, "download batch results", llm.backend.client.files.content, file_id)
            for raw in content.content.splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    lines[parse_custom_id(line["custom_id"])[2]] = line
    return lines


def _line_response(llm: LLM, line: dict) -> tuple[Response, Any]:
    """A batch output line as the Response (and sim truth) the same reply online would give."""
    reply = line.get("response") or {}
    status = reply.get("status_code")
    if line.get("error") or status != 200:
        error = line.get("error") or (reply.get("body") or {}).get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        return Response(ok=False, text=None, error=f"batch line failed: HTTP {status}: {message}"), None
    try:
        return llm.backend.read_reply(json.dumps(reply.get("body")).encode())
    except Retryable as err:  # no choices, unreadable: a failed line like any other
        return Response(ok=False, text=None, error=f"batch line failed: {err}", prompt_tokens=err.prompt_tokens,
                        completion_tokens=err.completion_tokens), None


async def _collect(llm: LLM, b: OpenBatch, batch: Any, resolved: list[Request], to_send: dict[str, int],
                   attempts: dict[str, int], retrying: set[str], answers: dict[str, Response]) -> list[str]:
    """Settle the answers of an ended batch into `answers`; the keys to submit again."""
    lines = await _lines(llm, batch) if batch.status != "failed" else {}
    latency = max(0.0, (batch.completed_at or batch.expired_at or batch.cancelled_at or time.time())
                  - batch.created_at)
    again, failed = [], []
    for key in b.keys:
        request = resolved[to_send[key]]
        common = {"attempt": attempts[key], "cache_hit": False, "latency_s": latency,
                  "retried_failure": key in retrying}
        if key not in lines:  # never ran: the batch failed validation, expired or was cancelled first
            why = _errors(batch) if batch.status == "failed" else "before this request ran"
            missing = Response(ok=False, text=None, error=f"batch {batch.id} {batch.status} {why}", key=key)
            llm._record(request, key, missing, **common)
            if batch.status != "failed" and attempts[key] <= llm.cfg.max_retries:
                attempts[key] += 1
                again.append(key)
            else:
                failed.append((request, key, missing))
            continue
        response, truth = _line_response(llm, lines[key])
        response = dataclasses.replace(response, key=key)
        row = llm._row(request, key, response, **common)
        if response.reason == REFUSED and attempts[key] == 1:  # one more try, as online
            llm._ledger.append(row)
            attempts[key] += 1
            again.append(key)
        elif response.reason == TRANSIENT:
            llm._ledger.append(row)
            failed.append((request, key, response))
        else:  # recorded once cached: killed in between, the rerun re-attaches this batch and records it then
            llm._settle(request, key, response, truth, row)
            answers[key] = response
    for request, key, response in failed:  # after the answers: a stop for a down endpoint loses none of them
        answers[key] = response
        llm._settle(request, key, response, None)
    if llm._writes is not None:  # answers stored and recorded before the journal lets go of their batch
        llm._writes.flush()
    llm.batches.done(b.file_id)
    if batch.status in ("expired", "cancelled"):
        log.warning("stage %s: batch %s %s with %d of its %d requests answered; %d are submitted again",
                    llm.stage, batch.id, batch.status, len(lines), len(b.keys), len(again))
    return again


def _errors(batch: Any) -> str:
    errors = getattr(batch.errors, "data", None) or []
    return "; ".join(f"{e.code}: {e.message}" for e in errors) or "(no reason given)"


# ---------------------------------------------------------------------------------------------- API calls


def _transient(err: Exception) -> bool:
    import openai

    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return isinstance(err, openai.APIConnectionError)


async def _pause_or_raise(llm: LLM, what: str, err: Exception, attempt: int) -> None:
    """Wait before the next attempt at a Files/Batches call, or stop: the endpoint cannot do `what`."""
    import openai

    if not isinstance(err, openai.APIError):  # a bug, not the endpoint
        raise err
    if not _transient(err) or attempt > llm.cfg.max_retries:
        raise llm._endpoint_down(f"the Batch API could not {what}", f"{type(err).__name__}: {err}") from err
    response = getattr(err, "response", None)
    wait = parse_retry_after(response.headers) if response is not None else None
    await asyncio.sleep(llm._backoff(attempt, Retryable(str(err), wait)))


async def _api(llm: LLM, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """`await call(*args, **kwargs)`, retried on transient failures like a model call."""
    for attempt in itertools.count(1):
        try:
            return await call(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - sorted by _pause_or_raise
            await _pause_or_raise(llm, what, err, attempt)
