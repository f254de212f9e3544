"""The replay backend: recorded generations of a real model, served offline by task and sample index.

`replay.files` maps a request's task tag ("<experiment>.<task>") to a JSONL file of records
`{"prompt": str, "samples": [str, ...]}`; a request gets `samples[sample_index]` of the record it asks for.
Like a model, the backend knows a request only by its messages. How it finds the record (`replay.match`):

    prompt     the last user message equals the record's prompt: generations recorded from the same prompts
    signature  the record asking for the same function: the last `def` line of the prompt plus the first line
               after it (for recordings made with other prompts, e.g. CodeT's, whose docstrings lack examples)

The request's `stop` sequences cut the recorded text as an endpoint would; `max_tokens` does not lengthen
it. A prompt without a record, or a sample index past the recorded ones, is a failed response saying so.
Nothing but the recorded prompt and samples is read: no task ids, no ground truth.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any

from engine.config import PROJECT_ROOT
from engine.llm.config import LLMConfig
from engine.llm.messages import last_message
from engine.llm.types import LLMConfigError, Request, Response


def signature_keys(text: str) -> list[str]:
    """Each `def` line at the start of a line, with the first non-empty line after it, in order."""
    lines = text.splitlines()
    keys = []
    for i, line in enumerate(lines):
        if line.startswith("def "):
            following = next((x.strip() for x in lines[i + 1:] if x.strip()), "")
            keys.append(f"{line.strip()}\n{following}")
    return keys


def cut_at_stop(text: str, stop: list[str] | None) -> str:
    """The text up to its first stop sequence."""
    cuts = [text.index(s) for s in stop or [] if s in text]
    return text[: min(cuts)] if cuts else text


class ReplayBackend:
    name = "replay"

    def __init__(self, cfg: LLMConfig):
        self.files = {task: PROJECT_ROOT / path for task, path in cfg.replay.files.items()}  # relative: to the checkout
        self.match = cfg.replay.match
        for task, path in self.files.items():
            if not path.is_file():
                raise LLMConfigError(f"replay.files.{task}: no such file {path}")

    @cached_property
    def records(self) -> dict[str, dict[str, list[str]]]:
        """task tag -> record key -> samples."""
        out: dict[str, dict[str, list[str]]] = {}
        for task, path in self.files.items():
            index: dict[str, list[str]] = {}
            for n, line in enumerate(path.read_text().splitlines(), 1):
                record = json.loads(line)
                keys = [record["prompt"]] if self.match == "prompt" else signature_keys(record["prompt"])[-1:]
                if not keys:
                    raise LLMConfigError(f"replay.files.{task}: {path} line {n} has no 'def' line to match on")
                if keys[0] in index:
                    raise LLMConfigError(f"replay.files.{task}: {path} line {n} repeats the {self.match} "
                                         f"of an earlier record: {keys[0][:120]!r}")
                index[keys[0]] = list(record["samples"])
            out[task] = index
        return out

    def key_parts(self, request: Request) -> dict[str, Any]:
        path = self.files.get(request.task)
        return {"task": request.task, "match": self.match,
                "file": None if path is None else [str(path), path.stat().st_size]}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        yield

    def find(self, request: Request) -> list[str]:
        if request.task not in self.records:
            raise LookupError(f"no replay file for task {request.task!r} (replay.files has {sorted(self.files)})")
        index, text = self.records[request.task], last_message(request.messages)
        if self.match == "prompt":
            samples = index.get(text)
        else:
            samples = next((index[k] for k in reversed(signature_keys(text)) if k in index), None)
        if samples is None:
            raise LookupError(f"no recorded generation in {self.files[request.task]} matches this prompt "
                              f"(match: {self.match}): {text[:200]!r}")
        return samples

    async def call(self, request: Request) -> tuple[Response, Any]:
        samples = self.find(request)
        if request.sample_index >= len(samples):
            raise LookupError(f"sample_index {request.sample_index} asked, but {len(samples)} samples "
                              f"were recorded for this prompt")
        text = cut_at_stop(samples[request.sample_index], request.stop)
        prompt_tokens = sum(len((m.get("content") or "").split()) for m in request.messages)
        return Response(ok=True, text=text, finish_reason="stop", prompt_tokens=prompt_tokens,
                        completion_tokens=len(text.split())), None
