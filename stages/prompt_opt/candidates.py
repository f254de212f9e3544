"""One row per new candidate prompt of this iteration: a generator reply cleaned of labels, preambles, quotes and
tags; replies that echo the meta prompt, hold no prompt, run too long or repeat a known prompt are rejected."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from engine.rows import Rejected
from stages.prompt_opt.prompts_initial import Prompt


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_prompt_words: int = Field(ge=5, le=2000)
    echo_min_chars: int = Field(ge=10, le=500)  # a meta prompt line this long, found in a reply, is an echo


_INS = re.compile(r"<INS>(.*?)(?:</INS>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```\w*\s*$", re.MULTILINE)
_PREAMBLE = r"(sure|certainly|of course|okay|here is|here's|below is)\b"
_PREAMBLE_LINE = re.compile(_PREAMBLE + r".*$", re.IGNORECASE)
_PREAMBLE_INLINE = re.compile(_PREAMBLE + r"[^:\n]{0,60}:[ \t]*(?=\S)", re.IGNORECASE)
_LABEL = re.compile(r"^(model[_ ]prompt|new[_ ]prompt|improved[_ ]prompt|prompt|new[_ ]instruction|instruction)"
                    r"\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'\u201c\u201d`"


def clean_proposal(reply: str) -> str:
    """The instruction in a generator reply: the inside of <INS> tags when present, without code fences,
    a leading preamble ("Here is an improved prompt:"), labels such as MODEL_PROMPT: or quotes."""
    text = m[1] if (m := _INS.search(reply)) else reply
    lines = _FENCE.sub("", text).strip().splitlines()
    while len(lines) > 1 and (_PREAMBLE_LINE.match(lines[0].strip()) or not lines[0].strip()):
        lines = lines[1:]
    text = _PREAMBLE_INLINE.sub("", "\n".join(lines).strip(), count=1)
    for _ in range(2):  # a label inside quotes, or quotes after a label
        text = _LABEL.sub("", text.strip().strip(_QUOTES).strip())
    return text.strip().strip(_QUOTES).strip()


def normalised(prompt: str) -> str:
    return re.sub(r"\s+", " ", prompt.casefold()).strip(" .!\"'")


def echoes(reply: str, meta_prompt: str, known: set[str], min_chars: int) -> bool:
    """The reply repeats a line of the meta prompt's own text. Lines holding a prompt of the pool do not count:
    a proposal may rightly reuse a prompt it was shown, and a label before it ('prompt: "...') is no echo."""
    said = normalised(reply)
    return any(len(line) >= min_chars and line in said and not any(k in line for k in known)
               for line in (normalised(x) for x in meta_prompt.splitlines()))


def candidates(proposals: list[dict], meta_prompts: list[dict], pool_prev: list[dict],
               params: Params) -> list[Prompt | Rejected]:
    metas = {m["id"]: m for m in meta_prompts}
    known = {normalised(p["prompt"]) for p in pool_prev}
    pool_prompts = set(known)
    rows: list[Prompt | Rejected] = []
    for proposal in proposals:
        meta = metas[proposal["parent_ids"][0]]
        prompt = clean_proposal(proposal["reply"])
        row: Prompt = {"prompt": prompt, "prompt_iteration": proposal["iteration"], "origin": "generated",
                       "parent_prompt_ids": meta["shown_prompt_ids"], "parent_ids": [proposal["id"]]}
        words = len(prompt.split())
        if echoes(proposal["reply"], meta["meta_prompt"], pool_prompts, params.echo_min_chars):
            rows.append(Rejected(row, "echo", proposal["reply"][:2000]))
        elif not prompt:
            rows.append(Rejected(row, "empty", proposal["reply"][:2000]))
        elif words > params.max_prompt_words:
            rows.append(Rejected(row, "overlong", f"{words} words > max_prompt_words={params.max_prompt_words}"))
        elif normalised(prompt) in known:
            rows.append(Rejected(row, "duplicate", prompt))
        else:
            known.add(normalised(prompt))
            rows.append(row)
    return rows
