"""Scoring one answer: the letter, strict compliance, the cross-entropy of the correct letter; per-prompt sums."""

from __future__ import annotations

import math

import pytest

from engine.llm import TokenLogprob
from helpers.prompt_opt.evaluation import (
    CE_MAX,
    extract_letter,
    is_strict_letter,
    letter_cross_entropy,
    letter_position,
    prompt_scores,
    sampled_cross_entropy,
)

TOP = {"A": math.log(0.5), " A": math.log(0.1), "B": math.log(0.2), "C": math.log(0.1), "The": math.log(0.05)}


def test_cross_entropy_adds_the_spaced_token_and_renormalises_over_the_letters():
    # A: 0.5 + 0.1 = 0.6 of the letters' 0.9 -> p = 2/3
    assert letter_cross_entropy(TOP, "A") == pytest.approx(math.log(1.5))
    assert letter_cross_entropy(TOP, "C") == pytest.approx(math.log(9))


def test_cross_entropy_of_an_absent_letter_is_the_floor():
    assert letter_cross_entropy(TOP, "D") == pytest.approx(-math.log(1e-4))
    assert CE_MAX == pytest.approx(9.210340)


def test_cross_entropy_is_floored_at_log_one_in_ten_thousand():
    top = {"A": 0.0, "D": math.log(1e-6)}
    assert letter_cross_entropy(top, "D") == pytest.approx(9.210340)
    assert letter_cross_entropy({"The": -0.1}, "A") == pytest.approx(9.210340)


def test_sampled_cross_entropy_is_the_share_naming_the_correct_letter():
    assert sampled_cross_entropy(["B", "B", "A", None], "B") == pytest.approx(math.log(2))
    assert sampled_cross_entropy(["A", "C"], "B") == pytest.approx(9.210340)


@pytest.mark.parametrize("reply, letter", [
    ("B", "B"), (" C\n", "C"), ("D.", "D"), ("(A)", "A"), ("**B**", "B"),
    ("B) Grasp at the shadow and you will lose the substance.", "B"),
    ("The answer is C.", "C"), ("Answer: (D)", "D"), ("The correct answer is B, because...", "B"),
    ("I choose option A", "A"),
    # real SmolLM2 shapes: an option label inside a sentence, bold, a think block, a preamble
    ("The moral of the narrative is C) Pride goes before a fall.", "C"), ("**Answer: B**", "B"),
    ("<think>A or B? B fits.</think>B", "B"), ("Sure! Here is my answer:\nD) The fox.", "D"),
    # a reply listing the options commits to none; two letters named as the answer is no answer
    ("A) Counsel without help is useless. | B) Grasp at the shadow.", None), ("A) 3 B) 5", None),
    ("The answer is A or the answer is B.", None),
    ("A badger should not be greedy.", None), ("The story shows that greed loses all.", None),
    ("I'm sorry, I don't understand the instruction.", None), ("", None),
])
def test_letter_extraction(reply, letter):
    assert extract_letter(reply) == letter


def test_strict_compliance_is_exactly_one_letter():
    assert is_strict_letter("B") and is_strict_letter(" B\n")
    assert not is_strict_letter("B.") and not is_strict_letter("The answer is B") and not is_strict_letter("E")


def test_an_item_without_a_kept_answer_counts_wrong_at_the_cap():
    items = [{"id": "i1", "answer": "A"}, {"id": "i2", "answer": "B"}]
    answers = [{"prompt_id": "p", "item_id": "i1", "letter": "A", "correct": True, "strict": True,
                "cross_entropy": 0.5, "ce_source": "top_logprobs"}]
    (row,) = prompt_scores([{"id": "p", "prompt": "x"}], answers, items, "train")
    assert row["train_accuracy"] == 0.5 and row["train_compliance"] == 0.5 and row["train_unanswered"] == 1
    assert row["train_cross_entropy"] == pytest.approx((0.5 + CE_MAX) / 2, abs=1e-6)
    assert row["train_results"][1] == {"item_id": "i2", "answer": "B", "letter": None, "cross_entropy": CE_MAX}


def test_without_logprobs_an_unanswered_item_is_unknown_not_at_the_cap():
    items = [{"id": "i1", "answer": "A"}, {"id": "i2", "answer": "B"}]
    answers = [{"prompt_id": "p", "item_id": "i1", "letter": "A", "correct": True, "strict": True,
                "cross_entropy": None, "ce_source": "no_logprobs"}]
    (row,) = prompt_scores([{"id": "p", "prompt": "x"}], answers, items, "train")
    assert row["train_unanswered"] == 1 and row["train_cross_entropy"] is None and row["train_ce_missing"] == 2
    assert row["train_results"][1]["cross_entropy"] is None


def tokens(*texts: str, letter_top: dict[str, float] | None = None) -> list[TokenLogprob]:
    return [TokenLogprob(t, -0.1, letter_top if letter_top and t.strip() in "ABCD" else {t: -0.1}) for t in texts]


def test_the_letters_token_is_found_past_the_first_position():
    reply = tokens("The", " answer", " is", " B", ".")
    assert letter_position(reply, "B") == 3


def test_a_capital_a_starting_a_sentence_is_not_the_answers_token():
    reply = tokens("A", " badger", " is", " greedy", ":", " the", " answer", " is", " A", ".")
    assert letter_position(reply, "A") == 8


def test_a_letter_merged_into_a_token_is_not_found():
    assert letter_position(tokens("The", " answer", " is", " B."), "B") == 3  # punctuation aside
    assert letter_position(tokens("The", " answer", " isB"), "B") is None


def test_answers_without_a_cross_entropy_are_counted_and_left_out_of_the_mean():
    items = [{"id": "i1", "answer": "A"}, {"id": "i2", "answer": "B"}]
    answers = [{"prompt_id": "p", "item_id": "i1", "letter": "A", "correct": True, "strict": True,
                "cross_entropy": 0.5, "ce_source": "top_logprobs"},
               {"prompt_id": "p", "item_id": "i2", "letter": "B", "correct": True, "strict": True,
                "cross_entropy": None, "ce_source": "no_logprobs"}]
    (row,) = prompt_scores([{"id": "p", "prompt": "x"}], answers, items, "train")
    assert row["train_cross_entropy"] == 0.5 and row["train_ce_missing"] == 1
    (none,) = prompt_scores([{"id": "p", "prompt": "x"}], answers[1:], items[1:], "train")
    assert none["train_cross_entropy"] is None and none["train_ce_missing"] == 1
