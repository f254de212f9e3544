"""One row per (constraint, prober, probe): a test response written to follow or to break an aligned constraint,
by a prompt that sees only the instruction, never the verifiers' code (a remedy for a shared misreading: the
verifiers and their own cases agree with each other, not necessarily with the instruction). Each role in `probers`
writes its own set (constraints_probed judges each set on its own, so a second model's probes are not diluted by
a first that shares the misreading). `probes_per_constraint: 0` makes no call and no row. A reply without a
readable list is re-asked once, then rejected for its constraint."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationInfo, field_validator

from engine.config_keys import did_you_mean
from engine.context import Context
from engine.llm import Request
from engine.llm.parse import Parsed, complete_json
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, render, user
from helpers.autoif.replies import ReadAsJSON, case_list
from stages.autoif.verifier_cases import expected_output

ProbePrompt = TemplatePath(required=["constraint"], optional=["n"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: ProbePrompt
    probes_per_constraint: int = Field(ge=0, le=40)
    max_tokens: int = Field(ge=64)
    probers: list[str] = Field(default=["prober"], min_length=1)  # model roles, each writing its own probes

    @field_validator("probers")
    @classmethod
    def _probers_are_roles_of_the_stage(cls, probers: list[str], info: ValidationInfo) -> list[str]:
        """The stage declares every role a prober may be (conf: its llm list), so that choosing fewer leaves no
        role block unused; a prober must be one of them, and each only once (a set per prober)."""
        declared = (info.context or {}).get("roles")  # the stage's roles (engine.graph), when built from config
        unknown = [p for p in probers if declared is not None and p not in declared]
        if unknown:
            hint = did_you_mean(unknown[0], declared)
            raise ValueError(f"prober {unknown[0]!r} is not a model role of this stage (llm: [{', '.join(declared)}])"
                             + (f"; {hint}" if hint.startswith("did you mean") else ""))
        if len(set(probers)) < len(probers):
            raise ValueError(f"a prober is named twice in {probers}: each writes one set of probes")
        return probers


class Probe(TypedDict):
    constraint_id: str
    prober: str  # the role that wrote it
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
    out: list = []
    for prober in params.probers:
        replies = complete_json(ReadAsJSON(ctx.llm(prober), case_list), requests, ProbeList,
                                desc=f"probes ({prober})")
        for constraint, parsed in zip(constraints_aligned, replies, strict=True):
            out += _probe_rows(constraint, prober, parsed)
    return out


def _probe_rows(constraint: dict, prober: str, parsed: Parsed[ProbeList]) -> list[Probe | Rejected]:
    base = {"constraint_id": constraint["id"], "prober": prober, "parent_ids": [constraint["id"]],
            **model_fields(parsed.response)}
    empty = {**base, "number": None, "response": None, "expected": None}
    if not parsed.response.ok:
        return [Rejected(empty, parsed.response.reason, parsed.response.error)]
    if parsed.error is not None:
        return [Rejected(empty, "parse_error", f"{parsed.error}; reply: {parsed.response.text[:300]}")]
    out: list = []
    for number, probe in enumerate(parsed.value.root):
        text, expected = probe.get("input"), expected_output(probe.get("output"))
        row = {**base, "number": number, "response": text if isinstance(text, str) else None, "expected": expected}
        if not isinstance(text, str) or expected is None:
            out.append(Rejected(row, "not_a_probe", f"input {text!r:.80}, output {probe.get('output')!r}"))
        else:
            out.append(row)
    return out
