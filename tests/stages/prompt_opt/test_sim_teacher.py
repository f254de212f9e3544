"""The sim evaluator's skill follows the documented prompt features; the sim generator reads the meta prompt."""

from __future__ import annotations

import json
import random
from pathlib import Path

from engine.config import PROJECT_ROOT
from helpers.prompt_opt.evaluation import extract_letter, letter_cross_entropy
from sims.prompt_opt.teacher import evaluate, prompt_features, propose

ITEMS = [json.loads(line) for line in (PROJECT_ROOT / "sample_data/multiple_choice.jsonl").read_text().splitlines()]
TEMPLATE = Path(PROJECT_ROOT / "stages/prompt_opt/prompts/question.txt").read_text()


def score(prompt: str, n: int = 120) -> tuple[float, float, float]:
    correct = strict = ce = 0.0
    for item in ITEMS[:n]:
        user = TEMPLATE.format(context=item["context"], question=item["question"], **item["options"])
        messages = [{"role": "system", "content": prompt}, {"role": "user", "content": user}]
        reply = evaluate(messages, random.Random(item["id"]), {})
        correct += extract_letter(reply.text) == item["answer"]
        strict += reply.text.strip() in ("A", "B", "C", "D")
        ce += letter_cross_entropy(reply.logprobs[0].top, item["answer"])
    return correct / n, strict / n, ce / n


def test_features_are_read_from_the_instruction():
    f = prompt_features("Read the story carefully and answer with a single letter.")
    assert f["coherence"] == 1.0 and f["asks_letter"] == f["refers_passage"] == f["asks_care"] == 1.0
    assert prompt_features("qzx blorf wimble snark")["coherence"] == 0.0


def test_a_good_instruction_beats_a_mediocre_one_beats_gibberish():
    good = score("Read the story carefully. Pick the option that best states the moral of the story. "
                 "Answer with a single letter: A, B, C or D.")
    mediocre = score("Answer the question.")
    gibberish = score("qzx blorf wimble snark tup")
    assert good[0] > mediocre[0] + 0.2 > gibberish[0] + 0.2
    assert good[1] > 0.5 > mediocre[1]  # asking for a letter buys strict compliance
    assert good[2] < mediocre[2] < gibberish[2]


def test_the_generator_builds_on_prompts_shown_in_either_meta_prompt():
    shown = "Read the story carefully."
    original = f'Prompt: {json.dumps(shown)}\nQuestion: Q?\nCorrect answer: A\nModel answer: A\nCross-entropy: 0.1'
    opro = f"text:\n{shown}\nscore:\n80\n\nWrite it between <INS> and </INS>."
    for meta in (original, opro):
        forms = [propose([{"role": "user", "content": meta}], random.Random(i), {"echo_rate": 0, "empty_rate": 0,
                                                                                 "overlong_rate": 0}).truth
                 for i in range(20)]
        assert all(t["parents"] == [shown] for t in forms)
        assert sum(t["prompt"] != shown for t in forms) >= 15  # mostly mutated, now and then a copy
