"""One row per (constraint, sample): a verifier's code and its test cases as the generator wrote them
(AutoIF step 2, `verifiers_per_constraint` samples, the block's `funcs_per_constraint`). A reply that does not
parse is sent back once with the error (`reask`); one that still does not is a rejected row with the error."""

from __future__ import annotations

import json
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.context import Context
from engine.llm import Request
from engine.llm.parse import complete_json
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, render, user
from helpers.autoif.replies import ReadAsJSON, verifier_json

VerifierPrompt = TemplatePath(required=["constraint"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: VerifierPrompt
    verifiers_per_constraint: int = Field(ge=3, le=20)
    max_tokens: int = Field(ge=64)
    reask: bool = True  # the prompt requires a format: a reply that misses it is sent back once with the error


class VerifierReply(BaseModel):
    """The {"func", "cases"} object the verifier prompt asks for (AutoIF's reply format); its "func" is the
    verifier's `code` from here on."""

    code: str = Field(alias="func")
    cases: list = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _defines_evaluate(cls, code: str) -> str:
        if "def evaluate" not in code:
            raise ValueError("'func' does not define evaluate(response)")
        return code


class VerifierSample(TypedDict):
    constraint_id: str
    sample: int
    parent_ids: list[str]
    reasked: bool
    llm_key: str
    simulated: bool
    code: str  # the verifier's source, defining evaluate(response)
    cases: str  # the cases as JSON text


def verifier_samples(constraints: list[dict], params: Params, ctx: Context) -> list[VerifierSample | Rejected]:
    prompts = [render(ctx.project_root, params.prompt, constraint=row["text"]) for row in constraints]
    requests = [Request(user(prompt), task="autoif.verifier", sample_index=k, max_tokens=params.max_tokens)
                for prompt in prompts for k in range(params.verifiers_per_constraint)]
    generator = ReadAsJSON(ctx.llm("generator"), verifier_json)
    replies = complete_json(generator, requests, VerifierReply, reask=params.reask, desc="verifiers")
    out: list[VerifierSample | Rejected] = []
    for i, parsed in enumerate(replies):
        constraint = constraints[i // params.verifiers_per_constraint]
        response = parsed.response
        row = {"constraint_id": constraint["id"], "sample": i % params.verifiers_per_constraint,
               "parent_ids": [constraint["id"]], "reasked": parsed.reasked, **model_fields(response)}
        if not response.ok:
            out.append(Rejected({**row, "code": None, "cases": None}, response.reason, response.error))
        elif parsed.error is not None:
            out.append(Rejected({**row, "code": None, "cases": None}, "parse_error",
                                f"{parsed.error}; reply: {response.text[:300]}"))
        else:
            out.append({**row, "code": parsed.value.code, "cases": json.dumps(parsed.value.cases)})
    return out
