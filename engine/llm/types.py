"""The values that cross the LLM layer's boundary: what a stage asks, what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


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
    # what a reply cut at max_tokens is worth: "reject" (a truncated failure), "whole_lines" (the complete lines
    # before the cut, for prompts that ask for one item a line) or "prefix" (the cut text as it is, for a stage
    # that reads only the reply's opening, such as an answer letter asked for first, under a small max_tokens).
    # Applied by the LLM layer to what the model sent, so it is not part of the cache key.
    truncation: Literal["reject", "whole_lines", "prefix"] = "reject"


# Why a Response is not ok, as the `reason` of the rows a stage rejects for it:
TRANSIENT = "llm_error"  # no usable reply (HTTP error, timeout, dropped connection, malformed body): a rerun retries
TRUNCATED = "truncated"  # cut at max_tokens (finish_reason "length"): final for this request
REFUSED = "refused"  # withheld by the endpoint (finish_reason "content_filter") or refused: final after one retry
FINAL_FAILURES = (TRUNCATED, REFUSED)


@dataclass(frozen=True)
class Response:
    """The outcome of one Request. A failure has ok=False, text=None, `reason` (one of TRANSIENT, TRUNCATED,
    REFUSED: what a stage rejects the row for) and an error saying why. A truncated reply's cut text is in
    `partial`, never in `text`, so no stage can parse it as whole. With `truncation="whole_lines"` a cut reply
    is ok with its whole lines as `text` and the cut last line in `partial`."""

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
    reason: str | None = None
    partial: str | None = None
    # the backend's own time on this request, when it queues requests internally (hf batches): the latency
    # recorded instead of the wall time the request waited
    compute_s: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.ok and self.reason is None:
            object.__setattr__(self, "reason", TRANSIENT)

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
    The client retries it; `retry_after` is the server's requested wait in seconds, when it gave one.

    What the attempt may have cost: `cost_known` is False where the endpoint may have run the model and billed
    without saying what (a timeout, a dropped connection, a body with no readable usage); tokens are the usage
    it did report (e.g. a well-formed reply with no choices)."""

    def __init__(self, message: str, retry_after: float | None = None, *, cost_known: bool = True,
                 prompt_tokens: int = 0, completion_tokens: int = 0):
        super().__init__(message)
        self.retry_after = retry_after
        self.cost_known = cost_known
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class EndpointDown(Exception):
    """The endpoint answers (almost) nothing: the first requests all failed, or a batch failed past
    `max_failure_rate`. It stops the stage, and so the run, with a message naming the endpoint."""


class LLMConfigError(ValueError):
    """The role's configuration or a request is wrong in a way no retry can fix; it stops the stage."""
