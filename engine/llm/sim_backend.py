"""The sim backend: a deterministic simulated teacher, answering offline with the project's own handlers.

Task `"<exp>.<task>"` is answered by `sims.<exp>.teacher.HANDLERS[task]` (tasks `generic.*` by
engine.llm.sim_generic), called as `handler(messages, rng, settings)` with `settings = sim.<exp>`.
The RNG is seeded from (seed, task, messages, sample_index) alone, so a reply never depends on concurrency,
order or what else is in the batch. Token counts are whitespace tokens, so the ledger and cost path run.
The loopback server (engine.testing.fake_openai) serves the same `answer` over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import json
import random
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from engine.code_version import code_version
from engine.llm import sim_generic
from engine.llm.config import LLMConfig, SimSettings
from engine.llm.types import LLMConfigError, Request, Response, SimReply, TokenLogprob

Handler = Callable[[list[dict[str, str]], random.Random, dict[str, Any]], SimReply]


def sim_module(exp: str) -> str:
    """The module whose HANDLERS answer experiment `exp`'s sim tasks and whose DEFAULTS are its error rates."""
    return f"sims.{exp}.teacher"


@cache
def handler_for(task: str) -> Handler:
    exp, _, name = task.partition(".")
    if not name:
        raise LLMConfigError(f"task {task!r} should be '<experiment>.<task>' (e.g. 'generic.echo')")
    if exp == "generic":
        handlers = sim_generic.HANDLERS
    else:
        try:
            handlers = importlib.import_module(sim_module(exp)).HANDLERS
        except ModuleNotFoundError as err:
            raise LLMConfigError(
                f"the sim backend answers task {task!r} with {sim_module(exp)}.HANDLERS, "
                f"which does not import: {err}"
            ) from err
    if name not in handlers:
        raise LLMConfigError(
            f"no sim handler for task {task!r}: {sim_module(exp)}.HANDLERS has {sorted(handlers)}"
        )
    return handlers[name]


@cache
def sim_code_hash(exp: str) -> str:
    """A hash of the code that answers an experiment's sim tasks: this backend, the experiment's sim teacher and
    whatever they import (like a catalogue of templates, the data a teacher has memorised), never the experiment's
    stages. Editing it must not serve replies written by the old code from the cache, nor reuse stages computed
    from them; editing a stage changes no sim reply."""
    return code_version(sim_code_entries(exp))


def sim_code_entries(exp: str) -> list[Path]:
    """The modules whose import closure is the sim teacher of experiment `exp` (sims/<exp>/teacher.py)."""
    if exp == "generic":
        return [Path(__file__)]
    try:
        spec = importlib.util.find_spec(sim_module(exp))
    except ModuleNotFoundError:  # no such experiment: answering its task raises the error that says so
        spec = None
    return [Path(__file__)] + ([Path(spec.origin)] if spec and spec.origin else [])


def request_rng(seed: int, task: str, messages: list[dict[str, str]], sample_index: int) -> random.Random:
    material = json.dumps([seed, task, messages, sample_index], sort_keys=True, ensure_ascii=False)
    return random.Random(hashlib.sha256(material.encode()).digest())


_WORD = re.compile(r"\S+")


def whitespace_tokens(text: str) -> int:
    return len(text.split())


def prompt_tokens(messages: list[dict[str, str]]) -> int:
    return sum(whitespace_tokens(m.get("content") or "") + 3 for m in messages)  # +3: role and framing


def synth_logprobs(text: str, rng: random.Random, top_n: int) -> list[TokenLogprob]:
    """Plausible token logprobs for a reply whose handler gave none: whitespace tokens, mostly confident."""
    out = []
    for token in text.split():
        logprob = -rng.expovariate(4.0)
        top = {token: logprob}
        for k in range(top_n - 1):
            top[f"{token}~{k}"] = logprob - rng.uniform(0.5, 4.0) * (k + 1)
        out.append(TokenLogprob(token, logprob, top))
    return out


def answer(request: Request, sim: SimSettings) -> tuple[Response, Any]:
    """The sim reply to one request (whose sampling fields are resolved), and its ground truth."""
    exp = request.task.partition(".")[0]
    rng = request_rng(sim.seed, request.task, request.messages, request.sample_index)
    reply = handler_for(request.task)(request.messages, rng, sim.experiment(exp))
    text, finish_reason = reply.text, "stop"
    if request.max_tokens is not None and whitespace_tokens(text) > request.max_tokens:
        # cut after the max_tokens-th word, keeping the text's own spacing and line breaks, as a model's cut is
        end = list(_WORD.finditer(text))[request.max_tokens - 1].end()
        text, finish_reason = text[:end], "length"
    logprobs = None
    if request.logprobs:
        top_n = request.top_logprobs or 1
        logprobs = reply.logprobs if reply.logprobs is not None else synth_logprobs(text, rng, top_n)
        logprobs = [TokenLogprob(t.token, t.logprob, dict(list(t.top.items())[:top_n])) for t in logprobs]
    response = Response(
        ok=True,
        text=text,
        finish_reason=finish_reason,
        logprobs=logprobs,
        prompt_tokens=prompt_tokens(request.messages),
        completion_tokens=whitespace_tokens(text),
        simulated=True,
    )
    return response, reply.truth


class SimBackend:
    name = "sim"

    def __init__(self, cfg: LLMConfig):
        self.sim = cfg.sim

    def key_parts(self, request: Request) -> dict[str, Any]:
        # a sim reply depends on the task (its handler), the seed and the experiment's error rates
        exp = request.task.partition(".")[0]
        return {"task": request.task, "seed": self.sim.seed, "settings": self.sim.experiment(exp),
                "code": sim_code_hash(exp)}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        yield

    async def call(self, request: Request) -> tuple[Response, Any]:
        if self.sim.latency_ms:
            await asyncio.sleep(self.sim.latency_ms / 1000)
        return answer(request, self.sim)
