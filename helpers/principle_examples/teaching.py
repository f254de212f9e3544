"""The teacher's two turns on one conversation: a critique, then a rewrite, with a library version's examples as
few-shot context. Shared by `evaluation`, `evaluation_seed` (measuring a version) and `candidates` (making new
examples, with the failures and their analysis added to the context)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request
from engine.llm.parse import labelled, strip_commentary
from engine.prompt_template import PromptTemplate, TemplatePath, read_template
from helpers.principle_examples.principle import Principle

EXAMPLE_FIELDS = ("human_prompt", "assistant_answer", "critique", "rewrite")
SystemTemplate = TemplatePath(required=["principle"], optional=["name"])
ExampleTemplate = TemplatePath(required=EXAMPLE_FIELDS, optional=["number"])
CritiqueTemplate = TemplatePath(required=["examples", "guidance", "human_prompt", "assistant_answer",
                                          "critique_request"], optional=["examples_intro"])


class Templates(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: SystemTemplate
    example: ExampleTemplate
    critique: CritiqueTemplate


class TeacherParams(BaseModel):
    """What every critique-and-rewrite stage needs: the principle, its prompt templates, sampling."""

    model_config = ConfigDict(extra="forbid")
    principle: Principle
    templates: Templates
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=64, le=8192)


@dataclass(frozen=True)
class Turns:
    """The teacher's critique and rewrite of one conversation; `error` says why there is no rewrite."""

    critique: str | None
    rewrite: str | None
    error: str | None  # None | a failed call's reason (llm_error, truncated, refused) | "no_critique" | "no_rewrite"
    detail: str
    critique_key: str
    rewrite_key: str
    simulated: bool


def examples_block(library: list[dict], template: PromptTemplate) -> str:
    """The version's examples, numbered, in the order they entered the library (oldest first)."""
    ordered = sorted(library, key=lambda e: (e["added_in_version"], e["id"]))
    return "".join(template.render(number=i, **{k: e[k] for k in EXAMPLE_FIELDS}) + "\n"
                   for i, e in enumerate(ordered, start=1))


def extract_rewrite(reply: str) -> str | None:
    """The text after the last `REWRITE:` label (markdown around the label allowed, a preamble before it on the
    same line), unfenced, without remarks after it ("Note: ..."); None without one."""
    text = labelled(reply, "rewrite")
    return strip_commentary(text) or None if text else None


def critique_and_rewrite(conversations: list[dict], library: list[dict], params: TeacherParams, ctx: Context,
                         guidance: str = "") -> list[Turns]:
    """`conversations` have `human_prompt` and `assistant_answer`. Critiques go out as one batch, then the
    rewrites of those that got one, each as the second turn of its conversation."""
    root = ctx.project_root
    principle = params.principle
    system = read_template(params.templates.system, root).render(name=principle.name,
                                                                  principle=principle.statement())
    examples = examples_block(library, read_template(params.templates.example, root))
    intro = ("Here are examples of answers critiqued and rewritten to follow the principle:\n" if examples
             else "There are no examples yet.\n")
    critique_template = read_template(params.templates.critique, root)
    firsts = [[{"role": "system", "content": system},
               {"role": "user", "content": critique_template.render(
                   examples_intro=intro, examples=examples, guidance=guidance, human_prompt=c["human_prompt"],
                   assistant_answer=c["assistant_answer"], critique_request=principle.critique_request)}]
              for c in conversations]
    sampling = {"temperature": params.temperature, "max_tokens": params.max_tokens}
    llm = ctx.llm("teacher")
    critiques = llm.complete([Request(m, task="principle_examples.critique", **sampling) for m in firsts],
                             desc="critiques")
    second = [i for i, r in enumerate(critiques) if r.ok and r.text.strip()]
    rewrites = dict(zip(second, llm.complete(
        [Request([*firsts[i], {"role": "assistant", "content": critiques[i].text},
                  {"role": "user", "content": principle.rewrite_request}],
                 task="principle_examples.rewrite", **sampling) for i in second], desc="rewrites"), strict=True))
    out = []
    for i, critique in enumerate(critiques):
        if not critique.ok:
            out.append(Turns(None, None, critique.reason, critique.error or "", critique.key, "", critique.simulated))
            continue
        if i not in rewrites:
            out.append(Turns(None, None, "no_critique", critique.text, critique.key, "", critique.simulated))
            continue
        answer = rewrites[i]
        if not answer.ok:
            out.append(Turns(critique.text.strip(), None, answer.reason, answer.error or "", critique.key, answer.key,
                             answer.simulated))
            continue
        rewrite = extract_rewrite(answer.text)
        out.append(Turns(critique.text.strip(), rewrite, None if rewrite else "no_rewrite",
                         "" if rewrite else answer.text[:500], critique.key, answer.key, answer.simulated))
    return out
