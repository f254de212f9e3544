"""One row per surviving verifier: the constraint the generator reads back out of its code (AutoIF step 4)."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, render, user
from helpers.autoif.replies import instruction_line

BackTranslatePrompt = TemplatePath(required=["code"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: BackTranslatePrompt
    max_tokens: int = Field(ge=16)


class BackTranslation(TypedDict):
    verifier_id: str
    constraint_id: str
    parent_ids: list[str]  # the verifier
    llm_key: str
    simulated: bool
    text: str  # the instruction read back from the verifier's code


def back_translations(verifiers_kept: list[dict], params: Params, ctx: Context) -> list[BackTranslation | Rejected]:
    requests = [Request(user(render(ctx.project_root, params.prompt, code=v["code"])), task="autoif.back_translate",
                        max_tokens=params.max_tokens) for v in verifiers_kept]
    out: list[BackTranslation | Rejected] = []
    for verifier, response in zip(verifiers_kept, ctx.llm("generator").complete(requests, desc="back-translate"),
                                  strict=True):
        row = {"verifier_id": verifier["id"], "constraint_id": verifier["constraint_id"],
               "parent_ids": [verifier["id"]], **model_fields(response)}
        if not response.ok:
            out.append(Rejected({**row, "text": None}, response.reason, response.error))
            continue
        text = instruction_line(response.text)
        out.append({**row, "text": text} if text else Rejected({**row, "text": text}, "empty_reply", response.text))
    return out
