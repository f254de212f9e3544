"""One row per candidate example: a student answer critiqued and rewritten by the teacher, with the working
version's examples, the failures and their analysis in context."""

from __future__ import annotations

from typing import TypedDict

from pydantic import ConfigDict, Field

from engine.context import Context
from engine.prompt_template import TemplatePath, read_template
from engine.rows import Rejected
from helpers.principle_examples.teaching import TeacherParams, critique_and_rewrite
from stages.principle_examples.failure_analysis import FailureTemplate, failures_shown, render_failures

GuidanceTemplate = TemplatePath(required=["failures", "analysis"])


class Candidate(TypedDict):
    human_prompt: str
    assistant_answer: str
    critique: str | None
    rewrite: str | None
    critique_key: str
    llm_key: str  # the rewrite's
    simulated: bool
    parent_ids: list[str]


class Params(TeacherParams):
    model_config = ConfigDict(extra="forbid")
    guidance_template: GuidanceTemplate
    failure_template: FailureTemplate
    failures_in_context: int = Field(ge=1, le=100)


def guidance(failures: list[dict], failure_analysis: list[dict], params: Params, ctx: Context) -> str:
    shown = failures_shown(failures, failure_analysis, params.failures_in_context)
    return read_template(params.guidance_template, ctx.project_root).render(
        failures=render_failures(shown, read_template(params.failure_template, ctx.project_root)),
        analysis=failure_analysis[0]["analysis"] if failure_analysis else "(no analysis available)")


def candidates(student_answers: list[dict], failures: list[dict], failure_analysis: list[dict],
               library_prev: list[dict], params: Params, ctx: Context) -> list[Candidate | Rejected]:
    if not student_answers:
        return []
    turns = critique_and_rewrite(student_answers, library_prev, params, ctx,
                                 guidance=guidance(failures, failure_analysis, params, ctx))
    out: list[dict | Rejected] = []
    for answer, turn in zip(student_answers, turns, strict=True):
        row = {"human_prompt": answer["human_prompt"], "assistant_answer": answer["assistant_answer"],
               "critique": turn.critique, "rewrite": turn.rewrite, "critique_key": turn.critique_key,
               "llm_key": turn.rewrite_key, "simulated": turn.simulated, "parent_ids": [answer["id"]]}
        out.append(Rejected(row, turn.error, turn.detail) if turn.error else row)
    return out
