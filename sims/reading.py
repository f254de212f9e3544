"""How a sim teacher reads a prompt: the parts its answer depends on, found by pattern, or an error.

A sim answers the project's own prompt templates by reading them, as a model would. When a template changes so
that a handler no longer finds a part it reads (a field, a block, a count), the handler raises UnrecognisedPrompt
instead of answering from a default: the run stops at the stage whose prompt changed, naming the task and what was
looked for, so the test suite fails loudly rather than measuring a sim that silently answers something else.
What a prompt says is another matter: a constraint, task or answer the sim does not know is answered as a model
would (a guess, a refusal), never raised.

UnrecognisedPrompt is an LLMConfigError: the LLM layer neither retries it nor records it as a failed reply.
"""

from __future__ import annotations

import re

from engine.llm.types import LLMConfigError

EXCERPT_CHARS = 300


class UnrecognisedPrompt(LLMConfigError):
    """A sim handler was sent a prompt it cannot read: its template changed, or the task is routed wrongly."""


def unrecognised(task: str, what: str, text: str) -> UnrecognisedPrompt:
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."
    return UnrecognisedPrompt(f"sim task {task!r} does not recognise its prompt: {what} not found (did a prompt "
                              f"template change? update the sim, sims/{task.partition('.')[0]}/); prompt: "
                              f"{excerpt!r}")


def found(task: str, what: str, pattern: str, text: str, flags: int = re.MULTILINE) -> re.Match[str]:
    """The first match of `pattern` in a prompt's `text`, or UnrecognisedPrompt naming `what` was looked for."""
    match = re.search(pattern, text, flags)
    if match is None:
        raise unrecognised(task, f"{what} (pattern {pattern!r})", text)
    return match
