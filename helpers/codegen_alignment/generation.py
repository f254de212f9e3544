"""What the two generator stages share: the crowd of generators, the regeneration policy, prompts, requests."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request, Response
from engine.prompt_template import TemplatePath, fill, read_template

Regenerate = Literal["functions", "tests", "both", "alternate"]
KnownGood = Literal["none", "docstring_tests", "reference_function"]
# the side a known-good item stands in for: that side is never generated, the other one every round
KNOWN_GOOD_SIDE = {"docstring_tests": "tests", "reference_function": "functions"}
# what a generator's template may show of a task: its statement, and a function task's entry point
Prompt = TemplatePath(required=["prompt"], optional=["entry_point"])


class Generator(BaseModel):
    """One member of the crowd: a model role and a prompt template (placeholders {prompt}, {entry_point}); for
    program tasks (stdin/stdout), `program_prompt` and, for test generators, whether the reply gives expected
    outputs or inputs only (their outputs then come from the programs' consensus)."""

    model_config = ConfigDict(extra="forbid")
    role: str
    prompt: Prompt
    stop: list[str] | None = None  # completion-style prompts: where the continuation ends
    program_prompt: Prompt | None = None  # the template for program tasks; null: this generator skips them
    expected_outputs: Literal["written", "consensus"] = "written"  # test generators on program tasks


class GeneratedRow(TypedDict):
    """The columns a generated function or test set shares: where it came from."""

    parent_ids: list[str]
    task_id: str
    generator: str  # the crowd member that wrote it, or the known-good side's name
    role: str | None
    prompt: str | None  # the template's name ("code_plain")
    sample_index: int
    llm_key: str | None
    simulated: bool
    reply: str | None


class GeneratorParams(BaseModel):
    """What both generator stages take; each adds its crowd (`code_generators` / `test_generators`) and its
    samples per generator, task and round (`functions_per_round` / `test_sets_per_round`), named as in the block."""

    model_config = ConfigDict(extra="forbid")
    regenerate: Regenerate = "both"
    known_good: KnownGood = "none"  # docstring_tests: only functions are generated; reference_function: only tests
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)


def side_generates(side: Literal["functions", "tests"], regenerate: Regenerate, known_good: KnownGood,
                   iteration: int) -> bool:
    """Round 0 generates both sides; later rounds regenerate what the policy names (alternate: tests in odd
    rounds, functions in even ones). With a known-good item only the other side is generated, every round."""
    if known_good in KNOWN_GOOD_SIDE:
        return side != KNOWN_GOOD_SIDE[known_good]
    if iteration == 0 or regenerate in (side, "both"):
        return True
    if regenerate == "alternate":
        return (iteration % 2 == 1) == (side == "tests")
    return False


def open_tasks(tasks: list[dict], alignment_prev: list[dict]) -> list[dict]:
    aligned = {row["task_id"] for row in alignment_prev if row["aligned"]}
    return [t for t in tasks if t["task_id"] not in aligned]


def template_for(gen: Generator, task: dict) -> str | None:
    """The generator's template for this task's kind (None: it does not generate for such tasks)."""
    return gen.program_prompt if task["kind"] == "program" else gen.prompt


def prompt_name(generators: dict[str, Generator], generator: str, task: dict) -> str | None:
    """The prompt variant a row came from, as the file name of its template ("code_plain")."""
    template = template_for(generators[generator], task)
    return None if template is None else Path(template).stem


def render(template_path: str, ctx: Context, task: dict) -> str:
    # an absolute path stays itself; a completion prompt ends exactly where the model goes on
    template = read_template(template_path, ctx.project_root)
    return fill(template.text.rstrip("\n"), template.path, prompt=task["prompt"], entry_point=task["entry_point"])


def generate(tasks: list[dict], generators: dict[str, Generator], per_round: int, params: GeneratorParams,
             llm_task: str, ctx: Context) -> list[tuple[dict, str, str, int, Response]]:
    """(task, generator name, prompt text, sample index, response) for every generator, task and sample of
    this round; sample indexes continue across rounds, so each round asks for new samples."""
    asks: dict[str, list[tuple[dict, str, str, int, Request]]] = defaultdict(list)
    for name, gen in generators.items():
        for task in tasks:
            template = template_for(gen, task)
            if template is None:
                continue
            text = render(template, ctx, task)
            for k in range(per_round):
                index = ctx.iteration * per_round + k
                request = Request(messages=[{"role": "user", "content": text}], task=llm_task, sample_index=index,
                                  temperature=params.temperature, max_tokens=params.max_tokens, stop=gen.stop)
                asks[gen.role].append((task, name, text, index, request))
    out = []
    for role, items in asks.items():
        responses = ctx.llm(role).complete([item[4] for item in items], desc=f"{ctx.stage}/{role}")
        out += [(task, name, text, index, response)
                for (task, name, text, index, _), response in zip(items, responses, strict=True)]
    return out
