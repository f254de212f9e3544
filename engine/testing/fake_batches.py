"""The loopback server's Files and Batches APIs (engine.testing.fake_openai): a batch's lines get the same sim
answers and injected faults as online requests, over a processing delay.

    POST /v1/files (multipart: file, purpose)      GET /v1/files/{id}, GET /v1/files/{id}/content
    POST /v1/batches {input_file_id, endpoint, completion_window, metadata}
    GET /v1/batches/{id}, GET /v1/batches (newest first), POST /v1/batches/{id}/cancel
    POST /batches/{id}/expire                      (a test's hook: the completion window ran out now)

A batch answers its lines evenly over `batch_delay_s` from its creation, advanced whenever it is looked at, so
its `request_counts` grow as a provider's do; then its output file (200 lines) and error file (the others)
appear and it is `completed`. Cancelled or expired first, it keeps the lines answered so far. `hold_lines` N (a
test's hook, set on the object) stops every batch at N answered lines until it is cancelled or expired, to catch
one midway. A line's task and sample index come from its custom_id (engine.llm.openai_backend.custom_id), as the
online path's headers. Faults are drawn per line as for online requests; the ones with no meaning inside a batch
become a 500 line (a dropped connection, a malformed body) or none (a slow reply).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine.llm.openai_backend import parse_custom_id

if TYPE_CHECKING:
    from engine.testing.fake_openai import FakeOpenAI

AS_LINE_FAULT = {"drop": "server_error", "malformed": "server_error", "slow": None}


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    lines: list[dict]
    completion_window: str
    metadata: dict | None
    created_at: float = field(default_factory=time.time)
    status: str = "validating"
    answered: list[dict] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    ended_at: dict[str, int] = field(default_factory=dict)  # status -> when it was reached
    stopping: str | None = None  # "cancelled" once cancel was asked
    errors: dict | None = None  # why it failed validation

    def as_json(self) -> dict[str, Any]:
        failed = sum(1 for a in self.answered if a["response"]["status_code"] != 200)
        return {
            "id": self.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": self.errors,
            "input_file_id": self.input_file_id, "completion_window": self.completion_window,
            "status": self.status, "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "created_at": int(self.created_at), "in_progress_at": int(self.created_at),
            "expires_at": int(self.created_at) + 24 * 3600, "finalizing_at": None,
            **{f"{s}_at": self.ended_at.get(s) for s in ("completed", "failed", "expired", "cancelling", "cancelled")},
            "request_counts": {"total": len(self.lines), "completed": len(self.answered) - failed, "failed": failed},
            "metadata": self.metadata,
        }


class FakeBatchAPI:
    def __init__(self, server: FakeOpenAI, batch_delay_s: float = 0.0):
        self.server = server
        self.batch_delay_s = batch_delay_s
        self.hold_lines: int | None = None
        self.files: dict[str, tuple[str, str, bytes]] = {}  # id -> (filename, purpose, content)
        self.batches: dict[str, FakeBatch] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}", self._file)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches", self._list)
        app.router.add_get("/v1/batches/{id}", self._retrieve)
        app.router.add_post("/v1/batches/{id}/cancel", self._cancel)
        app.router.add_post("/batches/{id}/expire", self._expire)

    def stats(self) -> dict[str, Any]:
        return {"batches": len(self.batches), "batch_lines": sum(len(b.lines) for b in self.batches.values())}

    # -------------------------------------------------------------------------------------------- files

    def _add_file(self, filename: str, purpose: str, content: bytes) -> dict:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (filename, purpose, content)
        return self._file_json(file_id)

    def _file_json(self, file_id: str) -> dict:
        filename, purpose, content = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed"}

    async def _upload(self, http: web.Request) -> web.Response:
        form = await http.post()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return _error(400, "a multipart field 'file' is required")
        return web.json_response(self._add_file(upload.filename, str(form.get("purpose", "")), upload.file.read()))

    async def _file(self, http: web.Request) -> web.Response:
        if http.match_info["id"] not in self.files:
            return _error(404, f"no file {http.match_info['id']}")
        return web.json_response(self._file_json(http.match_info["id"]))

    async def _content(self, http: web.Request) -> web.Response:
        if http.match_info["id"] not in self.files:
            return _error(404, f"no file {http.match_info['id']}")
        return web.Response(body=self.files[http.match_info["id"]][2], content_type="application/octet-stream")

    # ------------------------------------------------------------------------------------------ batches

    async def _create(self, http: web.Request) -> web.Response:
        body = await http.json()
        if body.get("input_file_id") not in self.files:
            return _error(400, f"no input file {body.get('input_file_id')!r}")
        raw = self.files[body["input_file_id"]][2]
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        batch = FakeBatch(f"batch_{len(self.batches) + 1}", body["input_file_id"], lines,
                          body.get("completion_window", "24h"), body.get("metadata"))
        self.batches[batch.id] = batch
        return web.json_response(batch.as_json())

    async def _list(self, _http: web.Request) -> web.Response:
        data = [self._advance(b).as_json() for b in reversed(list(self.batches.values()))]
        return web.json_response({"object": "list", "data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})

    async def _retrieve(self, http: web.Request) -> web.Response:
        batch = self.batches.get(http.match_info["id"])
        if batch is None:
            return _error(404, f"no batch {http.match_info['id']}")
        return web.json_response(self._advance(batch).as_json())

    async def _cancel(self, http: web.Request) -> web.Response:
        batch = self.batches.get(http.match_info["id"])
        if batch is None:
            return _error(404, f"no batch {http.match_info['id']}")
        if batch.status not in ("completed", "failed", "expired", "cancelled"):
            batch.stopping, batch.status = "cancelled", "cancelling"
            batch.ended_at["cancelling"] = int(time.time())
        return web.json_response(batch.as_json())

    async def _expire(self, http: web.Request) -> web.Response:
        batch = self.batches[http.match_info["id"]]
        self._advance(batch)
        if batch.status == "in_progress":
            self._end(batch, "expired")
        return web.json_response(batch.as_json())

    def _advance(self, batch: FakeBatch) -> FakeBatch:
        """Answer the lines due by now; end the batch when all are answered (or cancel was asked)."""
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
        if batch.stopping:
            self._end(batch, batch.stopping)
            return batch
        if problem := _invalid(batch.lines):
            batch.status, batch.ended_at["failed"] = "failed", int(time.time())
            batch.errors = problem
            return batch
        elapsed = time.time() - batch.created_at
        n = len(batch.lines)
        due = n if elapsed >= self.batch_delay_s else int(n * elapsed / self.batch_delay_s)
        if self.hold_lines is not None:
            due = min(due, self.hold_lines)
        for line in batch.lines[len(batch.answered):due]:
            batch.answered.append(self._answer(batch, line))
        batch.status = "in_progress"
        if len(batch.answered) == len(batch.lines):
            self._end(batch, "completed")
        return batch

    def _answer(self, batch: FakeBatch, line: dict) -> dict:
        task, sample, _key = parse_custom_id(line["custom_id"])
        body = line["body"]
        server = self.server
        server.requests += 1
        fault = server.draw_fault(json.dumps(body, sort_keys=True).encode(), str(sample))
        if fault:
            server.fault_counts[fault] += 1
        reply = server.reply(body, task, sample, AS_LINE_FAULT.get(fault, fault))
        content = json.loads(reply.body)
        if reply.status == 200:
            server.answered += 1
            server.billed_tokens += content["usage"]["total_tokens"]
        n = len(batch.answered) + 1
        return {"id": f"batch_req_{batch.id}_{n}", "custom_id": line["custom_id"],
                "response": {"status_code": reply.status, "request_id": f"req_{batch.id}_{n}", "body": content},
                "error": None}

    def _end(self, batch: FakeBatch, status: str) -> None:
        ok = [a for a in batch.answered if a["response"]["status_code"] == 200]
        bad = [a for a in batch.answered if a["response"]["status_code"] != 200]
        for kind, lines in (("output", ok), ("error", bad)):
            if lines:
                content = "".join(json.dumps(line) + "\n" for line in lines).encode()
                setattr(batch, f"{kind}_file_id", self._add_file(f"{batch.id}_{kind}.jsonl", f"batch_{kind}",
                                                                  content)["id"])
        batch.status = status
        batch.ended_at[status] = int(time.time())


def _invalid(lines: list[dict]) -> dict | None:
    """The batch's validation errors (the Batch API's `errors` object), or None."""
    ids = [line.get("custom_id") for line in lines]
    problems = []
    if len(set(ids)) != len(ids):
        problems.append({"code": "duplicate_custom_id", "message": "custom_id values must be unique", "line": None})
    for n, line in enumerate(lines, 1):
        if line.get("method") != "POST" or line.get("url") != "/v1/chat/completions":
            problems.append({"code": "invalid_url", "message": "only POST /v1/chat/completions is served", "line": n})
    return {"object": "list", "data": problems} if problems else None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=status)
