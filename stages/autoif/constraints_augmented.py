"""One row per line the generator wrote when asked for new constraints (AutoIF step 1, `augment_calls` calls)."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.context import Context
from engine.llm import Request
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, render, user
from helpers.autoif.replies import is_preamble, without_list_marker, without_think
from helpers.autoif.text_bounds import length_problem, max_not_below

AugmentPrompt = TemplatePath(required=["seeds"], optional=["n"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: AugmentPrompt
    augment_calls: int = Field(ge=1)
    lines_per_call: int = Field(ge=1, le=200)
    max_tokens: int = Field(ge=16)
    constraint_min_chars: int = Field(ge=1)
    constraint_max_chars: int = Field(ge=1)
    _bounds = field_validator("constraint_max_chars")(max_not_below("constraint_min_chars"))


def constraint_line(line: str, params: Params) -> tuple[str, str | None]:
    """The constraint a reply line states, without list markup ("**12.** ", "12) ", "- ") or emphasis around it,
    and why it is not one (None when it is)."""
    text = without_list_marker(line)
    if is_preamble(text):
        return text, "preamble"
    return text, length_problem(text, params.constraint_min_chars, params.constraint_max_chars)


class AugmentedLine(TypedDict):
    call: int  # which of the augment calls wrote it
    parent_ids: list[str]  # the seed constraints the call showed
    llm_key: str
    simulated: bool
    text: str  # the constraint, cleaned of list markers
    line: int  # its line number in the reply


def constraints_augmented(seed_constraints: list[dict], params: Params,
                          ctx: Context) -> list[AugmentedLine | Rejected]:
    seeds = "\n".join(row["text"] for row in seed_constraints)
    prompt = render(ctx.project_root, params.prompt, seeds=seeds, n=str(params.lines_per_call))
    # one constraint a line: a reply cut at max_tokens keeps its whole lines, the cut one is rejected as truncated
    requests = [Request(user(prompt), task="autoif.augment", sample_index=i, max_tokens=params.max_tokens,
                        truncation="whole_lines") for i in range(params.augment_calls)]
    seed_ids = [row["id"] for row in seed_constraints]
    out: list[AugmentedLine | Rejected] = []
    for call, response in enumerate(ctx.llm("generator").complete(requests, desc="augment")):
        base = {"call": call, "parent_ids": seed_ids, **model_fields(response)}
        if not response.ok:
            out.append(Rejected({**base, "text": None, "line": None}, response.reason, response.error))
            continue
        lines = without_think(response.text).splitlines()
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            text, problem = constraint_line(line, params)
            row = {**base, "text": text, "line": number}
            out.append(row if problem is None else Rejected(row, problem, line))
        if response.partial is not None:  # the line the cut went through: never a constraint
            out.append(Rejected({**base, "text": None, "line": len(lines)}, "truncated", response.partial))
    return out
