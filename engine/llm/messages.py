"""What a reply handler (the sim's, the replay backend's) reads of a conversation: the text of its last message
from one role."""

from __future__ import annotations


def last_message(messages: list[dict[str, str]], role: str = "user") -> str:
    """The content of the last message from `role`, or "" when there is none."""
    return next((m.get("content") or "" for m in reversed(messages) if m.get("role") == role), "")
