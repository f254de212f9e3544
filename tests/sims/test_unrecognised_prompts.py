"""A sim handler sent a prompt it cannot read raises UnrecognisedPrompt (naming the task and what it looked for)
instead of answering from a default, so a changed prompt template fails the suite at the stage that sends it.
Each experiment's own prompts are read: the end-to-end tests run every template through its handler."""

from __future__ import annotations

import importlib
import random

import pytest

from engine.config import PROJECT_ROOT
from engine.llm import LLMConfigError, Request, make_llm
from engine.llm.sim_backend import sim_module
from sims.autoif import constraint_space
from sims.reading import UnrecognisedPrompt

EXPERIMENTS = ("autoif", "codegen_alignment", "principle_examples", "prompt_opt")
# handlers that read no structure from their prompt: a student answers whatever it is asked
READS_ANY_PROMPT = {"principle_examples.answer"}
NOT_A_TEMPLATE = [{"role": "system", "content": "You are helpful."},
                  {"role": "user", "content": "Tell me something about rivers."}]


def _tasks() -> list[str]:
    return [f"{exp}.{name}" for exp in EXPERIMENTS for name in importlib.import_module(sim_module(exp)).HANDLERS]


@pytest.mark.parametrize("task", [t for t in _tasks() if t not in READS_ANY_PROMPT])
def test_a_prompt_no_template_wrote_is_an_error_naming_the_task(task):
    exp, _, name = task.partition(".")
    handler = importlib.import_module(sim_module(exp)).HANDLERS[name]
    with pytest.raises(UnrecognisedPrompt, match=rf"sim task '{task}' does not recognise its prompt: .* not found"):
        handler(NOT_A_TEMPLATE, random.Random(0), {})


def test_a_student_answers_any_request():
    handlers = importlib.import_module(sim_module("principle_examples")).HANDLERS
    assert handlers["answer"](NOT_A_TEMPLATE, random.Random(0), {}).text


def test_through_the_llm_layer_it_stops_the_stage_instead_of_becoming_a_failed_reply(tmp_path):
    ledger: list = []
    llm = make_llm({"backend": "sim", "cache": "off", "progress": False, "max_retries": 3}, stage="nli",
                   role="teacher", cache_dir=tmp_path, ledger=ledger, truth=[])
    with pytest.raises(LLMConfigError, match="'autoif.nli' does not recognise its prompt: a 'Premise:' line"):
        llm.complete([Request(NOT_A_TEMPLATE, task="autoif.nli")])
    assert not [row for row in ledger if row.get("ok")]  # never an answer, never retried into one


def test_a_recognised_prompt_is_answered():
    rng = random.Random(0)
    template = constraint_space.TEMPLATES[0]
    constraint = constraint_space.state(template, template.draw(rng), rng)
    prompt = PROJECT_ROOT.joinpath("stages/autoif/prompts/nli.txt").read_text().format(
        premise=constraint, hypothesis=constraint)
    reply = importlib.import_module(sim_module("autoif")).HANDLERS["nli"]([{"role": "user", "content": prompt}],
                                                                          rng, {})
    assert reply.truth["correct"] == "entailment"
