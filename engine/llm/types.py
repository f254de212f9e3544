"""The values that cross the LLM layer's boundary: what a stage asks, what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the most likely alternatives at its position."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One chat completion a stage wants. Sampling fields left None take the role's `sampling` defaults.

    `sample_index` is the n-th sample of the same prompt: it is part of the cache key, so asking for samples
    0..k-1 gives k distinct answers that a rerun finds again. `task` is `"<experiment>.<task>"`; it tags the
    ledger and routes the sim backend, and is not part of the cache key for real models.
    """

    messages: list[dict[str, str]]
    task: str
    sample_index: int = 0
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Response:
    """The outcome of one Request. A failure has ok=False, text=None and an error saying why."""

    ok: bool
    text: str | None
    error: str | None = None
    finish_reason: str | None = None
    logprobs: list[TokenLogprob] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    key: str = ""
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)  # not dataclasses.asdict: its deep copy is slow on the hot path
        if self.logprobs is not None:
            data["logprobs"] = [{"token": t.token, "logprob": t.logprob, "top": t.top} for t in self.logprobs]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Response:
        logprobs = data.get("logprobs")
        return cls(**{**data, "logprobs": None if logprobs is None else [TokenLogprob(**t) for t in logprobs]})


@dataclass(frozen=True)
class SimReply:
    """What a sim handler returns: the reply text, its hidden ground truth (for table sim_truth, never
    read by stages) and optionally token logprobs (e.g. for an answer letter)."""

    text: str
    truth: Any = None
    logprobs: list[TokenLogprob] | None = None


class Retryable(Exception):
    """A transient failure of one attempt (429, 5xx, timeout, dropped connection, malformed or empty reply).
    The client retries it; `retry_after` is the server's requested wait in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class LLMConfigError(ValueError):
    """The role's configuration or a request is wrong in a way no retry can fix; it stops the stage."""
