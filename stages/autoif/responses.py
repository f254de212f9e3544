"""One row per (query, sample): a response the generator wrote to a constrained query (AutoIF step 6,
`responses_per_query` samples). Empty, cut-off and failed replies are rejected rows."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, user


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responses_per_query: int = Field(ge=1)
    max_tokens: int = Field(ge=16)


class Response(TypedDict):
    query_row_id: str  # the queries row
    constraint_id: str
    query_id: str
    prompt: str
    sample: int
    parent_ids: list[str]
    llm_key: str
    simulated: bool
    response: str


def responses(queries: list[dict], params: Params, ctx: Context) -> list[Response | Rejected]:
    requests = [Request(user(q["prompt"]), task="autoif.respond", sample_index=k, max_tokens=params.max_tokens)
                for q in queries for k in range(params.responses_per_query)]
    out: list[Response | Rejected] = []
    for i, response in enumerate(ctx.llm("generator").complete(requests, desc="respond")):
        q = queries[i // params.responses_per_query]
        row = {"query_row_id": q["id"], "constraint_id": q["constraint_id"], "query_id": q["query_id"],
               "prompt": q["prompt"], "sample": i % params.responses_per_query, "parent_ids": [q["id"]],
               **model_fields(response)}
        if not response.ok:
            out.append(Rejected({**row, "response": None}, response.reason, response.error))
        elif not response.text.strip():
            out.append(Rejected({**row, "response": response.text}, "empty_response"))
        else:
            out.append({**row, "response": response.text})
    return out
