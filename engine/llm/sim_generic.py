"""Built-in sim handlers for tasks `generic.<name>`, used by tests and demos.

Like every sim handler they read only the messages (as a real model would) and answer with text shaped like
a real model's: JSON sometimes fenced, wrapped in prose or broken; answer letters with top_logprobs.
Rates come from `sim.generic` in conf/llm/sim.yaml.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any

from engine.llm.messages import last_message
from engine.llm.types import SimReply, TokenLogprob


def echo(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Repeat the last user message."""
    text = last_message(messages)
    return SimReply(text, truth={"echo": text})


def json_object(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Describe the last user message as a JSON object, bare, fenced, inside prose, or broken."""
    words = last_message(messages).split()
    value = {"topic": " ".join(words[:6]), "words": len(words), "confidence": round(rng.uniform(0.5, 1.0), 2)}
    body = json.dumps(value, indent=rng.choice([None, 2]))
    draw = rng.random()
    fenced, prose, broken = (
        settings.get(k, d) for k, d in (("json_fenced_rate", 0.3), ("json_prose_rate", 0.2), ("json_broken_rate", 0.1))
    )
    if draw < broken:
        form, text = "broken", body[: max(1, len(body) * 2 // 3)]
    elif draw < broken + fenced:
        form, text = "fenced", f"```json\n{body}\n```"
    elif draw < broken + fenced + prose:
        form, text = "prose", f"Sure! Here is the JSON you asked for:\n{body}\nLet me know if you need more."
    else:
        form, text = "bare", body
    return SimReply(text, truth={"value": value, "form": form})


_OPTION = re.compile(r"^\s*\(?([A-J])[).:]\s+\S", re.MULTILINE)


def choice(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Answer a multiple-choice question (options as lines `A) ...`) with a letter and calibrated-looking
    top_logprobs over the option letters at the letter's position."""
    letters = list(dict.fromkeys(_OPTION.findall(last_message(messages)))) or list("ABCD")
    chosen = rng.choice(letters)
    logits = {letter: rng.gauss(0, 1) for letter in letters}
    logits[chosen] = max(logits.values()) + rng.uniform(0.2, 3.0)
    norm = math.log(sum(math.exp(v) for v in logits.values()))
    top = dict(sorted(((k, v - norm) for k, v in logits.items()), key=lambda kv: -kv[1]))
    if rng.random() < settings.get("choice_verbose_rate", 0.2):
        tokens = ["The", " answer", " is", " (", chosen, ")."]
    else:
        tokens = [chosen]
    logprobs = [
        TokenLogprob(t, top[chosen], top) if t == chosen else TokenLogprob(t, -0.01, {t: -0.01}) for t in tokens
    ]
    return SimReply("".join(tokens), truth={"letter": chosen, "p": round(math.exp(top[chosen]), 4)}, logprobs=logprobs)


HANDLERS = {"echo": echo, "json": json_object, "choice": choice}
