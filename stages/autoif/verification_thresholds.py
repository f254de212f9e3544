"""One row per run: the thresholds of the experiment's SQL filters. A SQL stage's own params (DuckDB variables) are
typed but not range-checked; here each threshold is validated against its range at start-up, with the config key
in the error, and the filters read the one table. A changed threshold changes this stage's fingerprint and so
recomputes the filters after it."""

from __future__ import annotations

from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# stages/autoif/prompts/verifier.txt asks each verifier for test cases, "at least one of each" (true and false)
CASES_ASKED_PER_VERIFIER = 2


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verifiers_per_constraint: int = Field(ge=1)  # verifier_samples' own, here only to check min_verifiers against it
    min_verifiers: int = Field(ge=1)
    min_cases: int = Field(ge=1)
    min_verifier_accuracy: float = Field(ge=0, le=1)
    pass_threshold: float = Field(gt=0, le=1)
    # step 5: keep a constraint unless a back-translation contradicts it (the original), or only when every one
    # is entailed by it (strict)
    nli_keep: Literal["not_contradiction", "entailment"] = "not_contradiction"
    # boundary probes (stage probes): the share of probes on which the surviving verifiers give the probe's label,
    # and the share of breaking probes they reject (below it: not_discriminating); 0 turns the check off
    probe_accuracy: float = Field(default=0.0, ge=0, le=1)
    probe_min_caught: float = Field(default=0.0, ge=0, le=1)
    probers: list[str] = Field(default=["prober"], min_length=1)  # stage probes' roles: each must probe a constraint

    @field_validator("min_cases")
    @classmethod
    def _min_cases_reachable(cls, min_cases: int, info: ValidationInfo) -> int:
        # nothing caps the cases a reply writes, so the bound is what the verifier prompt asks for: a run can count
        # on that many (before duplicates), not on a model writing more than asked
        written = info.data.get("verifiers_per_constraint")
        if written is not None and min_cases > (asked := written * CASES_ASKED_PER_VERIFIER):
            raise ValueError(f"min_cases ({min_cases}) is more than the {asked} cases the verifier prompt asks of the "
                             f"{written} verifiers written per constraint (at least one true and one false case each): "
                             "only replies writing more cases than asked could keep a constraint; write more "
                             "verifiers per constraint or lower min_cases")
        return min_cases

    @field_validator("min_verifiers")
    @classmethod
    def _min_verifiers_reachable(cls, min_verifiers: int, info: ValidationInfo) -> int:
        written = info.data.get("verifiers_per_constraint")
        if written is not None and min_verifiers > written:
            raise ValueError(f"min_verifiers ({min_verifiers}) is more than verifiers_per_constraint ({written}), the "
                             "verifiers written per constraint: every constraint would be rejected")
        return min_verifiers


class Thresholds(TypedDict):
    id: str
    parent_ids: list[str]  # none: the row comes from the config
    min_verifiers: int
    min_cases: int
    min_verifier_accuracy: float
    pass_threshold: float
    nli_keep: str
    probe_accuracy: float
    probe_min_caught: float
    n_probers: int


def verification_thresholds(params: Params) -> list[Thresholds]:
    return [{"id": "thresholds", "parent_ids": [], **params.model_dump(exclude={"verifiers_per_constraint", "probers"}),
             "n_probers": len(params.probers)}]
