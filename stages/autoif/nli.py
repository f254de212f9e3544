"""One row per back-translation: the NLI label of (constraint as premise, back-translation as hypothesis)
(AutoIF step 5). `nli_method: llm` asks the `nli` role with a prompt (an LLM judge, or sim); `nli_method: classify` uses
the role's sequence-classification model (backend hf, e.g. an mDeBERTa XNLI checkpoint) through the LLM layer."""

from __future__ import annotations

from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine.context import Context
from engine.llm import Request
from engine.llm.hf_backend import nli_classifier_problem
from engine.prompt_template import TemplatePath
from engine.rows import Rejected
from helpers.autoif.prompting import model_fields, render, user
from helpers.autoif.replies import nli_label

LABELS = ("entailment", "neutral", "contradiction")


NLIPrompt = TemplatePath(required=["premise", "hypothesis"])

class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nli_method: Literal["llm", "classify"]
    prompt: NLIPrompt
    max_tokens: int = Field(ge=1)

    @field_validator("nli_method")
    @classmethod
    def _classify_needs_a_classifier(cls, method: str, info: ValidationInfo) -> str:
        """Found at start-up, not when the stage first classifies (after every stage before it has been paid)."""
        roles = (info.context or {}).get("roles")  # the stage's roles (engine.graph), when built from config
        if method == "classify" and roles is not None and "nli" in roles:
            problem = nli_classifier_problem(roles["nli"])
            if problem is not None:
                raise ValueError(f"nli_method 'classify' needs role 'nli' to be an NLI classifier (else use "
                                 f"nli_method=llm), but {problem}")
        return method


def classified_label(probabilities: dict[str, float]) -> str | None:
    """The most probable label of a classifier whose label names contain entail/neutral/contradict."""
    best = max(probabilities, key=probabilities.get)
    return next((label for label in LABELS if label[:6] in best.lower()), None)


class NLIRow(TypedDict):
    constraint_id: str
    verifier_id: str
    premise: str
    hypothesis: str
    parent_ids: list[str]
    llm_key: str
    simulated: bool
    label: str


def nli(back_translations: list[dict], constraints_verified: list[dict], params: Params,
        ctx: Context) -> list[NLIRow | Rejected]:
    premises = {c["id"]: c["text"] for c in constraints_verified}
    pairs = [(premises[b["constraint_id"]], b["text"]) for b in back_translations]
    rows = [{"constraint_id": b["constraint_id"], "verifier_id": b["verifier_id"], "premise": premise,
             "hypothesis": hypothesis, "parent_ids": [b["id"]]}
            for b, (premise, hypothesis) in zip(back_translations, pairs, strict=True)]
    if params.nli_method == "classify":
        results = ctx.llm("nli").classify(pairs, task="autoif.nli")
        return [{**row, "label": label, "llm_key": "", "simulated": False} if (label := classified_label(probs))
                else Rejected(row, "no_label", str(probs)) for row, probs in zip(rows, results, strict=True)]
    requests = [Request(user(render(ctx.project_root, params.prompt, premise=p, hypothesis=h)), task="autoif.nli",
                        max_tokens=params.max_tokens) for p, h in pairs]
    out: list[NLIRow | Rejected] = []
    for row, response in zip(rows, ctx.llm("nli").complete(requests, desc="nli"), strict=True):
        row = {**row, **model_fields(response)}
        if not response.ok:
            out.append(Rejected(row, response.reason, response.error))
        elif (label := nli_label(response.text)) is None:
            out.append(Rejected(row, "no_label", response.text[:300]))
        else:
            out.append({**row, "label": label})
    return out
