"""One row per new human prompt of a round: exactly `human_prompts_per_round` requests like the failed ones, as
structured output. A reply with broken JSON or the wrong count is a Rejected row (the raw reply in `detail`), and
the teacher is asked again, up to `generation_attempts` times; when every attempt fails the round adds nothing."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, Field, ValidationError

from engine.context import Context
from engine.llm import Request
from engine.llm.parse import answer_text, extract_json, list_items, validation_error_text
from engine.prompt_template import TemplatePath, read_template
from engine.rows import Rejected
from stages.principle_examples.failure_analysis import FailurePromptParams, failures_shown, render_failures

GenerateTemplate = TemplatePath(required=["failures", "analysis", "count"], optional=["principle"])


class HumanPrompt(TypedDict):
    attempt: int  # the request's sample index: attempts after a broken reply ask again
    human_prompt: str
    llm_key: str
    simulated: bool
    parent_ids: list[str]


class Params(FailurePromptParams):
    generate_template: GenerateTemplate
    human_prompts_per_round: int = Field(ge=1, le=50)
    generation_attempts: int = Field(ge=1, le=10)


class PromptList(BaseModel):
    prompts: list[str]


def _schema(count: int) -> dict:
    return {"type": "object", "required": ["prompts"], "additionalProperties": False,
            "properties": {"prompts": {"type": "array", "items": {"type": "string"},
                                       "minItems": count, "maxItems": count}}}


def template_placeholders(prompt: str) -> set[str]:
    """The example prompts of the JSON form the generation prompt shows ("first request", ...): a reply that
    hands them back has written nothing."""
    start = prompt.rfind('{"prompts"')
    value, error = extract_json(prompt[start:]) if start >= 0 else (None, "none")
    return {p.strip().lower() for p in value.get("prompts", []) if isinstance(p, str)} if error is None else set()


def parse_prompts(text: str, count: int, placeholders: set[str] = frozenset()) -> tuple[list[str] | None, str, str]:
    """(prompts, "", "") or (None, reason slug, what was wrong). A bare JSON list is accepted too, and so is a
    numbered or bulleted list of exactly `count` requests when the reply has no JSON (small models write one)."""
    value, error = extract_json(text)
    if error is not None:
        items = list_items(answer_text(text))
        if len(items) != count:
            return None, "broken_json", error
        value = items
    try:
        prompts = PromptList.model_validate({"prompts": value} if isinstance(value, list) else value).prompts
    except ValidationError as err:
        return None, "wrong_schema", validation_error_text(err)
    prompts = [p.strip() for p in prompts if p.strip()]
    if len(prompts) != count:
        return None, "wrong_count", f"asked for exactly {count} prompts, got {len(prompts)}"
    if copied := [p for p in prompts if p.lower().strip(" .") in placeholders]:
        return None, "template_placeholder", f"the reply repeats the prompt's example {copied[0]!r}"
    return prompts, "", ""


def human_prompts(failures: list[dict], failure_analysis: list[dict], params: Params,
                  ctx: Context) -> list[HumanPrompt | Rejected]:
    shown = failures_shown(failures, failure_analysis, params.failures_in_context)
    if not shown:
        return []
    analysis = failure_analysis[0]["analysis"] if failure_analysis else "(no analysis available)"
    prompt = read_template(params.generate_template, ctx.project_root).render(
        principle=params.principle.statement(), analysis=analysis, count=params.human_prompts_per_round,
        failures=render_failures(shown, read_template(params.failure_template, ctx.project_root)))
    parents = [a["id"] for a in failure_analysis] or [f["id"] for f in shown]
    llm = ctx.llm("teacher")
    out: list[dict | Rejected] = []
    for attempt in range(params.generation_attempts):
        (response,) = llm.complete([Request([{"role": "user", "content": prompt}], task="principle_examples.prompts",
                                            sample_index=attempt, temperature=params.temperature,
                                            max_tokens=params.max_tokens,
                                            json_schema=_schema(params.human_prompts_per_round))],
                                   desc="human prompts")
        base = {"attempt": attempt, "human_prompt": None, "llm_key": response.key, "simulated": response.simulated,
                "parent_ids": parents}
        if not response.ok:
            out.append(Rejected(base, response.reason, response.error or ""))
            continue
        prompts, reason, problem = parse_prompts(response.text, params.human_prompts_per_round,
                                                 template_placeholders(prompt))
        if prompts is None:
            out.append(Rejected(base, reason, f"{problem}; reply: {response.text[:400]}"))
            continue
        return out + [{**base, "human_prompt": p} for p in prompts]
    return out
