"""The sentence splitter and the acrostic checker on text as models write it."""

from __future__ import annotations

import json

import pytest

from engine.config import PROJECT_ROOT
from helpers.principle_examples.checker import acrostic_check, initials, sentences


@pytest.mark.parametrize(("text", "letters"), [
    ("The tilt is about 23.5 degrees. Days get longer.", "TD"),
    ("Use tools, e.g. a timer. Dr. Smith agrees. Ask i.e. your doctor.", "UDA"),
    ("We met at 9 a.m. Then we left.", "WT"),
    ("J. K. Rowling wrote it. The U.S. Army marched. Vitamin C. Done.", "JTVD"),
    ("Wait... then go. He left… Nobody saw.", "WHN"),
    ('He said "Stop." Then he left. "Always," she said.', "HTA"),
    ("No. 5 is the answer. No. The answer is no.", "NNT"),
    ("(An aside.) Next one! Really? Yes.", "ANRY"),
    ("**Above** all, rest. _Drink_ water. [Aim](http://x.y/z.html) high.", "ADA"),
    ("# Tips\n\n- sleep well\n- eat well\n1. Plan ahead\n2) Act", "TSEPA"),
    ("Here are fruits:\n1. Guava\n2. Kiwi", "HGK"),
    ("Brazil\nArgentina\nChile", "BAC"),
    ("The sun climbs,\nThe sun spills,\nThe sun warms.", "T"),
    ("A sentence wrapped\nacross two lines. Done.", "AD"),
    ("Always run `obj.method()` first. Done.", "AD"),
    ("Before code.\n\n```python\nx = 1. \nprint(x)\n```\nAfter code.", "BA"),
    ("> Quoted wisdom. Then more.", "QT"),
    ("Über alles. Éclairs help. ¿Qué? 42 is it.", "UEQ4"),
    ("| a | b |\n|---|---|\n| c | d |", "AC"),
    ("", ""),
])
def test_sentences_of_tricky_texts_have_the_expected_initials(text, letters):
    assert initials(text) == letters, sentences(text)


def test_decimal_and_abbreviation_stay_inside_their_sentence():
    assert sentences("Costs rose 3.5% e.g. in rent. Prices fell.") == ["Costs rose 3.5% e.g. in rent.", "Prices fell."]


def test_shipped_rewrites_pass_and_shipped_answers_fail():
    seeds = [json.loads(line) for line in (PROJECT_ROOT / "sample_data/principle_examples_seed.jsonl").open()]
    assert all(acrostic_check(s["rewrite"], "ADAPTIVE").passed for s in seeds)
    answers = [json.loads(line)["model_answer"] for name in ("principle_validation", "principle_test", )
               for line in (PROJECT_ROOT / f"sample_data/{name}.jsonl").open()] + [s["model_answer"] for s in seeds]
    assert not any(acrostic_check(a, "ADAPTIVE").passed for a in answers)


def test_other_target_words_work_and_report_the_letters_seen():
    assert acrostic_check("Come here. Look up. Eat well. Aim high. Rest.", "clear") == (True, "CLEAR")
    assert acrostic_check("Come here. Look up.", "CLEAR") == (False, "CL")


def test_off_by_one_rewrites_fail():
    text = "Above all. Do it. After that. Put simply. Then. In short. Even so."  # no V: ADAPTIE
    assert acrostic_check(text, "ADAPTIVE") == (False, "ADAPTIE")
