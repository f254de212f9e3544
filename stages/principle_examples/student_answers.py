"""One row per new human prompt with the student's plain answer to it (the answer the teacher will critique)."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.prompt_template import TemplatePath, read_template
from engine.rows import Rejected

StudentTemplate = TemplatePath(required=["human_prompt"])


class StudentAnswer(TypedDict):
    human_prompt: str
    assistant_answer: str
    llm_key: str
    simulated: bool
    parent_ids: list[str]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: StudentTemplate
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=16, le=8192)


def student_answers(human_prompts: list[dict], params: Params, ctx: Context) -> list[StudentAnswer | Rejected]:
    template = read_template(params.template, ctx.project_root)
    responses = ctx.llm("student").complete(
        [Request([{"role": "user", "content": template.render(human_prompt=p["human_prompt"])}],
                 task="principle_examples.answer", temperature=params.temperature, max_tokens=params.max_tokens)
         for p in human_prompts], desc="student answers")
    out: list[dict | Rejected] = []
    for prompt, response in zip(human_prompts, responses, strict=True):
        row = {"human_prompt": prompt["human_prompt"], "assistant_answer": (response.text or "").strip(),
               "llm_key": response.key, "simulated": response.simulated, "parent_ids": [prompt["id"]]}
        if not response.ok:
            out.append(Rejected(row, response.reason, response.error or ""))
        elif not row["assistant_answer"]:
            out.append(Rejected(row, "empty_answer", "the student's reply was empty"))
        else:
            out.append(row)
    return out
