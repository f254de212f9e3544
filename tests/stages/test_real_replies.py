"""Each stage parser on replies a real 135M model wrote (tests/data/real_replies/): what it reads, and that a
shape it must not read (a reply listing the options) is not read as an answer."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from helpers.codegen_alignment.programs import reply_code
from helpers.prompt_opt.evaluation import extract_letter

REPLIES = Path(__file__).parents[1] / "data" / "real_replies"


def replies(task: str) -> list[str]:
    return [json.loads(line)["text"] for line in (REPLIES / f"{task}.jsonl").read_text().splitlines()]


def test_evaluator_replies_listing_the_options_commit_to_no_letter():
    texts = replies("prompt_opt.evaluate")
    listing = [t for t in texts if t.startswith("A) ") and "\nB) " in t]
    assert listing and all(extract_letter(t) is None for t in listing)
    # before: 23 of 24 read, 4 of them a listing misread as A; now 20, each a letter the reply commits to
    assert sum(extract_letter(t) is not None for t in texts) == 20


def test_an_option_label_inside_a_sentence_is_the_answer():
    [sentence] = [t for t in replies("prompt_opt.evaluate") if t.startswith("The proverb that best illustrates")]
    assert extract_letter(sentence) == "C"


def test_the_functions_code_compiles_where_the_reply_has_code():
    def compiles(code: str) -> bool:
        try:
            ast.parse(code)
        except SyntaxError:
            return False
        return True

    texts = replies("codegen_alignment.functions")
    assert sum(compiles(reply_code(t)) for t in texts) >= 3


def test_parse_rates_run_the_old_parsers_from_git_beside_todays():
    import subprocess
    import sys

    from benchmarks import parse_rates

    known = subprocess.run(["git", "cat-file", "-e", parse_rates.BEFORE], cwd=REPLIES, capture_output=True)
    if known.returncode:
        pytest.skip("a checkout without the history parse_rates reads the old parsers from")
    today = sys.modules["helpers.prompt_opt.evaluation"]
    rows = {r["task"]: r for r in parse_rates.rates(parse_rates.BEFORE)}
    # the old letter parser read the replies listing the options as answer A; today's reads none of them
    evaluate = rows["prompt_opt.evaluate"]
    assert (evaluate["before_misread"], evaluate["after_misread"]) == (4, 0)
    assert evaluate["after"] == sum(extract_letter(t) is not None for t in replies("prompt_opt.evaluate"))
    assert sys.modules["helpers.prompt_opt.evaluation"] is today  # today's modules are put back
