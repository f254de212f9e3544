"""Every AutoIF parser on the hand-made corpus of real-model reply shapes (replies_corpus.py)."""

from __future__ import annotations

import pytest

from helpers.autoif.replies import instruction_line, nli_label, score_line, verifier_reply, without_think
from stages.autoif.constraints_augmented import Params as AugmentParams
from stages.autoif.constraints_augmented import constraint_line
from tests.stages.autoif.replies_corpus import AUGMENT_LINES, BACK_TRANSLATION, JUDGE, NLI, VERIFIER

AUGMENT = AugmentParams(prompt="stages/autoif/prompts/augment.txt", augment_calls=1, lines_per_call=5, max_tokens=512,
                        constraint_min_chars=5, constraint_max_chars=300)


@pytest.mark.parametrize(("reply", "expected"), VERIFIER)
def test_verifier_replies_are_read_from_json_or_code(reply, expected):
    code, cases, error = verifier_reply(reply)
    if expected is None:
        assert code is None and error, error
        return
    n_cases, fragment = expected
    assert error is None, error
    assert fragment in code and "assert" not in code and "print(" not in code
    compile(code, "<verifier>", "exec")
    assert len(cases) == n_cases and all(isinstance(c["input"], str) for c in cases)


def test_cases_from_asserts_keep_their_labels_and_compute_text_arithmetic():
    reply = ("```python\ndef evaluate(response):\n    return len(response.split()) < 3\n```\n"
             "```python\nassert evaluate('a b')\nassert evaluate('w ' * 5) is False\nassert not evaluate('x y z')\n"
             "assert evaluate(open('f').read())\n```")
    code, cases, error = verifier_reply(reply)
    assert error is None and "< 3" in code
    assert cases == [{"input": "a b", "output": True}, {"input": "w w w w w ", "output": False},
                     {"input": "x y z", "output": False}]  # open(...) is not text arithmetic: no case


@pytest.mark.parametrize(("reply", "expected"), BACK_TRANSLATION)
def test_back_translations_are_read_past_preambles_labels_and_wrapping_quotes(reply, expected):
    assert instruction_line(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), NLI)
def test_nli_replies_give_the_label_they_commit_to(reply, expected):
    assert nli_label(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), JUDGE)
def test_judge_scores_come_only_from_the_score_line(reply, expected):
    assert score_line(reply) == expected


@pytest.mark.parametrize(("line", "expected"), AUGMENT_LINES)
def test_augmented_lines_lose_list_markup_and_preambles_are_rejected(line, expected):
    text, problem = constraint_line(line, AUGMENT)
    assert (text if problem is None else None) == expected
    assert problem in (None, "preamble")


def test_think_blocks_are_removed_even_unclosed_or_without_their_opening_tag():
    assert without_think("<think>a\nb</think>\nAnswer").strip() == "Answer"
    assert without_think("reasoning here</think>Answer") == "Answer"
    assert without_think("Answer <think>cut while thinking").strip() == "Answer"
