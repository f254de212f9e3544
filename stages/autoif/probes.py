"""One row per (constraint, probe): a test response written to follow or to break an aligned constraint, by a
prompt that sees only the instruction, never the verifiers' code (a remedy for a shared misreading: the verifiers
and their own cases agree with each other, not necessarily with the instruction). `probes_per_constraint: 0`
makes no call and no row. A reply without a readable list is re-asked once, then rejected for its constraint."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, RootModel

from engine.context import Context
from engine.llm import Request
from engine.llm.parse import complete_json
from engine.rows import Rejected
from stages.autoif.prompting import model_fields, render, user
from stages.autoif.replies import ReadAsJSON, case_list
from stages.autoif.verifier_cases import expected_output


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    probes_per_constraint: int = Field(ge=0, le=40)
    max_tokens: int = Field(ge=64)


class Probe(TypedDict):
    constraint_id: str
    number: int
    response: str  # named as a response is, so response_checks runs the verifiers on it
    expected: bool  # the prober's label: True when written to follow the constraint
    parent_ids: list[str]
    llm_key: str
    simulated: bool


class ProbeList(RootModel[list[dict]]):
    root: list[dict] = Field(min_length=1)


def probes(constraints_aligned: list[dict], params: Params, ctx: Context) -> list[Probe | Rejected]:
    if params.probes_per_constraint == 0:
        return []
    requests = [Request(user(render(ctx.project_root, params.prompt, constraint=c["text"],
                                    n=str(params.probes_per_constraint))), task="autoif.probe",
                        max_tokens=params.max_tokens) for c in constraints_aligned]
    replies = complete_json(ReadAsJSON(ctx.llm("prober"), case_list), requests, ProbeList, desc="probes")
    out: list = []
    for constraint, parsed in zip(constraints_aligned, replies, strict=True):
        base = {"constraint_id": constraint["id"], "parent_ids": [constraint["id"]], **model_fields(parsed.response)}
        if not parsed.response.ok:
            out.append(Rejected({**base, "number": None, "response": None, "expected": None},
                                parsed.response.reason, parsed.response.error))
            continue
        if parsed.error is not None:
            out.append(Rejected({**base, "number": None, "response": None, "expected": None}, "parse_error",
                                f"{parsed.error}; reply: {parsed.response.text[:300]}"))
            continue
        for number, probe in enumerate(parsed.value.root):
            text, expected = probe.get("input"), expected_output(probe.get("output"))
            row = {**base, "number": number, "response": text if isinstance(text, str) else None,
                   "expected": expected}
            if not isinstance(text, str) or expected is None:
                out.append(Rejected(row, "not_a_probe", f"input {text!r:.80}, output {probe.get('output')!r}"))
            else:
                out.append(row)
    return out
