"""One row per round: the teacher's analysis of the working version's validation failures (common patterns,
concrete suggestions, what examples would help), written from the failures alone."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.prompt_template import PromptTemplate, TemplatePath, read_template
from engine.rows import Rejected
from helpers.principle_examples.principle import Principle

# one failed validation item, as the analysis, generation and guidance prompts list it
FailureTemplate = TemplatePath(required=["human_prompt"], optional=["letters"])
AnalyseTemplate = TemplatePath(required=["failures"], optional=["principle"])


class FailureAnalysis(TypedDict):
    analysis: str
    failures_total: int
    failures_shown: int  # those in the prompt; parent_ids are theirs
    llm_key: str
    simulated: bool
    parent_ids: list[str]


class FailurePromptParams(BaseModel):
    """What a teacher prompt built from a round's failures needs (failure_analysis, human_prompts)."""

    model_config = ConfigDict(extra="forbid")
    principle: Principle
    failure_template: FailureTemplate
    failures_in_context: int = Field(ge=1, le=100)
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=64, le=8192)


class Params(FailurePromptParams):
    analyse_template: AnalyseTemplate


def render_failures(failures: list[dict], template: PromptTemplate) -> str:
    return "".join(template.render(human_prompt=f["human_prompt"], letters=f["letters"] or "none")
                   for f in failures).rstrip()


def failures_shown(failures: list[dict], failure_analysis: list[dict], limit: int) -> list[dict]:
    """The failures the analysis was written from, so later prompts show the same ones; without an analysis
    (its call failed), the first `limit` by id."""
    if failure_analysis:
        wanted = set(failure_analysis[0]["parent_ids"])
        return [f for f in failures if f["id"] in wanted]
    return failures[:limit]


def failure_analysis(failures: list[dict], params: Params, ctx: Context) -> list[FailureAnalysis | Rejected]:
    if not failures:
        return []  # the working version passes every validation item: nothing to analyse
    shown = sorted(ctx.rng.sample(failures, min(params.failures_in_context, len(failures))), key=lambda f: f["id"])
    prompt = read_template(params.analyse_template, ctx.project_root).render(
        principle=params.principle.statement(),
        failures=render_failures(shown, read_template(params.failure_template, ctx.project_root)))
    (response,) = ctx.llm("teacher").complete(
        [Request([{"role": "user", "content": prompt}], task="principle_examples.analyse",
                 temperature=params.temperature, max_tokens=params.max_tokens)], desc="failure analysis")
    row = {"analysis": (response.text or "").strip(), "failures_total": len(failures), "failures_shown": len(shown),
           "llm_key": response.key, "simulated": response.simulated, "parent_ids": [f["id"] for f in shown]}
    if not response.ok:
        return [Rejected(row, response.reason, response.error or "")]
    return [row] if row["analysis"] else [Rejected(row, "empty_analysis", "the teacher's reply was empty")]
