"""One row per (constraint, sample): a verifier function and its test cases as the generator wrote them
(AutoIF step 2, `funcs_per_constraint` samples). A reply that does not parse is a rejected row with the error."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.llm.parse import extract_json
from engine.rows import Rejected
from stages.autoif.prompting import model_fields, render, user


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    funcs_per_constraint: int = Field(ge=3, le=20)
    max_tokens: int = Field(ge=64)


def parse_sample(text: str) -> tuple[str | None, list | None, str | None]:
    """(func source, cases, None) from a reply, or (None, None, what was wrong)."""
    value, error = extract_json(text)
    if error is not None:
        return None, None, error
    if not isinstance(value, dict):
        return None, None, f"expected a JSON object with 'func' and 'cases', found {type(value).__name__}"
    func, cases = value.get("func"), value.get("cases")
    if not isinstance(func, str) or "def evaluate" not in func:
        return None, None, "'func' is missing or does not define evaluate(response)"
    if not isinstance(cases, list) or not cases:
        return None, None, "'cases' is missing or not a non-empty list"
    return func, cases, None


def verifier_samples(constraints: list[dict], params: Params, ctx: Context) -> list:
    prompts = [render(ctx.project_root, params.prompt, constraint=row["text"]) for row in constraints]
    requests = [Request(user(prompt), task="autoif.verifier", sample_index=k, max_tokens=params.max_tokens)
                for prompt in prompts for k in range(params.funcs_per_constraint)]
    responses = ctx.llm("generator").complete(requests, desc="verifiers")
    out: list = []
    for i, response in enumerate(responses):
        constraint = constraints[i // params.funcs_per_constraint]
        row = {"constraint_id": constraint["id"], "sample": i % params.funcs_per_constraint,
               "parent_ids": [constraint["id"]], **model_fields(response)}
        if not response.ok:
            out.append(Rejected({**row, "func": None, "cases": None}, response.reason, response.error))
            continue
        func, cases, error = parse_sample(response.text)
        if error is not None:
            out.append(Rejected({**row, "func": None, "cases": None}, "parse_error",
                                f"{error}; reply: {response.text[:300]}"))
            continue
        out.append({**row, "func": func, "cases": json.dumps(cases)})
    return out
