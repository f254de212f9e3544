"""One row per (constraint, user query): `queries_per_instruction` queries of suitable length, sampled for each
aligned and probed constraint with a seed of its own, joined with it by the respond prompt (AutoIF step 6)."""

from __future__ import annotations

import random
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.context import Context
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import render
from helpers.autoif.text_bounds import length_problem, max_not_below

RespondPrompt = TemplatePath(required=["query", "constraint"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: RespondPrompt
    queries_per_instruction: int = Field(ge=1)
    query_min_chars: int = Field(ge=1)
    query_max_chars: int = Field(ge=1)
    _bounds = field_validator("query_max_chars")(max_not_below("query_min_chars"))


def query_problem(query: object, params: Params) -> str | None:
    if not isinstance(query, str) or not query.strip():
        return "empty_query"
    return length_problem(query, params.query_min_chars, params.query_max_chars)


class Query(TypedDict):
    constraint_id: str
    constraint_text: str
    query_id: str  # the user query's id in its source
    query: str
    prompt: str  # the query with the constraint, as the generator reads it
    parent_ids: list[str]  # the constraint and the user query


def queries(constraints_probed: list[dict], user_queries: list[dict], params: Params,
            ctx: Context) -> list[Query | Rejected]:
    out: list[Query | Rejected] = []
    eligible = []
    for q in user_queries:
        problem = query_problem(q.get("query"), params)
        if problem is None:
            eligible.append(q)
        else:
            out.append(Rejected({"query_id": q["id"], "query": q.get("query"), "parent_ids": [q["id"]]}, problem))
    for constraint in constraints_probed:
        # a seed per constraint: adding or removing one constraint does not change the queries of the others
        rng = random.Random(f"{ctx.seed}:{constraint['id']}")
        for q in rng.sample(eligible, min(params.queries_per_instruction, len(eligible))):
            prompt = render(ctx.project_root, params.prompt, query=q["query"].strip(), constraint=constraint["text"])
            out.append({"constraint_id": constraint["id"], "constraint_text": constraint["text"], "query_id": q["id"],
                        "query": q["query"], "prompt": prompt.strip(), "parent_ids": [constraint["id"], q["id"]]})
    return out
