"""The LLM layer: one interface over the openai, hf and sim backends (docs/CONTRACTS.md has the seam).

    llm = make_llm(role_cfg, stage=..., role=..., cache_dir=..., ledger=rows, truth=rows)
    responses = llm.complete([Request(messages, task="exp.task", sample_index=0), ...], desc="...")
    probabilities = llm.classify([(premise, hypothesis), ...])  # hf only: NLI and other classifiers

Every request gets one Response, in order: ok with its text, or ok=False with the error after retries.
Retried: 429 (after Retry-After), 408/409/5xx, timeouts, dropped connections, malformed or empty replies.
Recorded failures: other 4xx, content_filter, replies without content. finish_reason "length" is ok.
Answers are cached (cache_dir/llm_responses.sqlite) as they arrive; every attempt is a ledger row
(engine.llm.ledger). Structured replies: engine.llm.parse.
"""

from engine.llm.client import LLM
from engine.llm.factory import make_llm
from engine.llm.types import LLMConfigError, Request, Response, Retryable, SimReply, TokenLogprob

__all__ = ["LLM", "LLMConfigError", "Request", "Response", "Retryable", "SimReply", "TokenLogprob", "make_llm"]
