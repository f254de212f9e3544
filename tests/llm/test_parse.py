"""Structured replies: JSON and code out of model text, errors that name the problem, one re-ask."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from engine.llm import Request
from engine.llm.parse import (
    answer_text,
    code_in_prose,
    complete_json,
    extract_code,
    extract_json,
    fenced_blocks,
    labelled,
    list_items,
    parse_json,
    strip_commentary,
    strip_preamble,
    strip_think,
)


class Topic(BaseModel):
    topic: str
    words: int


@pytest.mark.parametrize(
    "reply",
    [
        '{"topic": "cats", "words": 2}',
        'Sure! Here it is:\n```json\n{"topic": "cats", "words": 2}\n```\nAnything else?',
        '```\n{"topic": "cats", "words": 2}\n```',
        'The answer is {"topic": "cats", "words": 2} as requested.',
        'Note {not json} first, then {"topic": "cats", "words": 2}',
    ],
)
def test_json_is_found_in_model_shaped_replies(reply):
    assert parse_json(reply, Topic) == (Topic(topic="cats", words=2), None)


def test_braces_inside_strings_do_not_end_the_object():
    assert extract_json('ok: {"topic": "a } b", "words": 1} bye') == ({"topic": "a } b", "words": 1}, None)


def test_arrays_are_found_too():
    assert extract_json("values: [1, 2, 3].") == ([1, 2, 3], None)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"topic": "cats", "wor', "unterminated JSON"),
        ("no structure at all", "no JSON object or array"),
        ("{'topic': 'cats'}", "words: Field required"),
        ("{topic: cats}", "invalid JSON"),
        ('{"topic": "cats", "words": "many"}', "words: Input should be a valid integer"),
        ('{"topic": "cats"}', "words: Field required"),
    ],
)
def test_errors_say_what_was_wrong(reply, expected):
    value, error = parse_json(reply, Topic)
    assert value is None and expected in error


def test_code_from_a_fenced_python_block_among_others():
    reply = "Shell:\n```bash\nls\n```\nPython:\n```python\ndef f(x):\n    return x\n```\n"
    assert extract_code(reply) == ("def f(x):\n    return x", None)


def test_code_from_a_bare_reply_and_from_a_cut_fence():
    assert extract_code("def f():\n    return 1\n") == ("def f():\n    return 1", None)
    assert extract_code("```py\nimport re\nx = 1") == ("import re\nx = 1", None)


def test_prose_is_not_code():
    code, error = extract_code("I cannot write that function, sorry.")
    assert code is None and "not Python" in error


def test_reask_sends_the_error_back_once(make):
    llm, ledger, _ = make({"progress": False, "sim": {"generic": {"json_broken_rate": 0.5, "json_fenced_rate": 0.5}}})
    requests = [Request([{"role": "user", "content": f"describe thing {i}"}], task="generic.json") for i in range(40)]
    without = complete_json(llm, requests, Topic, reask=False)
    broken = [i for i, p in enumerate(without) if p.error]
    assert broken and all("unterminated" in without[i].error for i in broken)
    parsed = complete_json(llm, requests, Topic, reask=True)
    assert [i for i, p in enumerate(parsed) if p.reasked] == broken
    assert sum(p.value is not None for p in parsed) > sum(p.value is not None for p in without)
    followup = parsed[broken[0]].response
    assert followup.ok and not followup.cached
    assert len(ledger) == 40 + 40 + len(broken)  # first pass, its cached replay, one re-ask each


def test_failed_call_is_reported_as_such(server, make):
    from tests.llm.conftest import openai_config

    llm, _, _ = make(openai_config(server.base_url, max_retries=0))
    server.server.plan.append("server_error")
    [parsed] = complete_json(llm, [Request([{"role": "user", "content": "x"}], task="generic.json")], Topic)
    assert parsed.value is None and parsed.error.startswith("model call failed: HTTP 500")


# ---------------------------------------------------------------------------------- real reply shapes


def test_think_blocks_are_removed_closed_open_or_opened_by_the_template():
    assert strip_think("<think>A or B?</think>\nB") == "B"
    assert strip_think("I reason here</think>B") == "B"  # the chat template opened the block
    assert strip_think("<think>cut while reasoning") == ""
    assert strip_think("    return x") == "    return x"  # nothing to remove: left as it is


@pytest.mark.parametrize("reply, answer", [
    ("Sure! Here is the instruction:\nWrite a poem.", "Write a poem."),
    ("Sure!\nWrite a poem.", "Write a poem."),
    ("Certainly. Here's the rewritten answer:\nAim high.", "Aim high."),
    ("Here is a poem about the sea", "Here is a poem about the sea"),  # no colon: the answer itself
    ("Sure!", "Sure!"),  # nothing after it: the whole reply
])
def test_preambles_are_removed_only_when_an_answer_follows(reply, answer):
    assert strip_preamble(reply) == answer


def test_answer_text_looks_through_think_preamble_and_bold():
    assert answer_text("<think>hm</think>Sure! Here it is:\n**Answer:** B") == "Answer: B"


def test_numbered_and_bulleted_items_lose_their_markers():
    assert list_items("Ideas:\n1. Write a haiku.\n2) **Explain** tides.\n- Name a fish\n* Sing") == [
        "Write a haiku.", "Explain tides.", "Name a fish", "Sing"]


def test_a_label_is_read_past_bold_and_a_preamble_on_its_line():
    assert labelled("Okay. **REWRITE:** Aim high.", "rewrite") == "Aim high."
    assert labelled("Score: 3\nSCORE: 7", "score") == "7"  # the last one
    assert labelled("no label here", "rewrite") is None and labelled("REWRITE:", "rewrite") is None


def test_remarks_after_the_answer_are_removed():
    assert strip_commentary("Aim high.\n\nNote: this spells A.") == "Aim high."
    assert strip_commentary("Aim high.\n\nThis rewrite keeps the facts.") == "Aim high."
    assert strip_commentary("Aim high.\nNote the tone.") == "Aim high.\nNote the tone."  # same paragraph


def test_python_literals_are_read_as_json():
    assert extract_json("{'ok': True, 'why': None, 'cases': ['a', \"b's\"]}") == (
        {"ok": True, "why": None, "cases": ["a", "b's"]}, None)
    assert extract_json("Result: {'a': '}'} done") == ({"a": "}"}, None)


def test_fences_with_and_without_a_language():
    assert fenced_blocks("```Python\nx = 1\n```\ntext\n```\ny\n```") == [("python", "x = 1\n"), ("", "y\n")]


def test_bare_code_amid_prose_is_found():
    reply = "Here is the function:\ndef f(x):\n    return x + 1\n\nassert f(1) == 2\nThis adds one."
    assert code_in_prose(reply) == "def f(x):\n    return x + 1\n\nassert f(1) == 2"
    assert extract_code(reply) == ("def f(x):\n    return x + 1\n\nassert f(1) == 2", None)
    assert code_in_prose("No code in this reply.") is None
