"""Cleaning generator replies: labels stripped; echoes, empty, overlong and duplicate proposals rejected."""

from __future__ import annotations

import pytest

from engine.rows import Rejected
from stages.prompt_opt.candidates import Params, candidates, clean_proposal

SHOWN = "Answer the question about the story above."
META = ("You are improving the instruction given to a language model that answers multiple-choice questions.\n"
        f'Prompt: "{SHOWN}"\nCorrect answer: B\n'
        "Reply with the new instruction only, after the label MODEL_PROMPT:")
PARAMS = Params(max_prompt_words=12, echo_min_chars=40)


@pytest.mark.parametrize("reply", [
    "MODEL_PROMPT: Read the story carefully.",
    'Here is an improved prompt:\n\n"MODEL_PROMPT: Read the story carefully."',
    "Sure!\nRead the story carefully.",
    "Here is a better instruction: Read the story carefully.",
    "<INS>Read the story carefully.</INS>",
    "```\nPrompt: Read the story carefully.\n```",
    "\u201cRead the story carefully.\u201d",
])
def test_labels_preambles_quotes_and_tags_are_stripped(reply):
    assert clean_proposal(reply) == "Read the story carefully."


def run(*replies: str, pool=(SHOWN,)) -> list:
    metas = [{"id": "m1", "meta_prompt": META, "shown_prompt_ids": ["p0"]}]
    proposals = [{"id": f"r{i}", "iteration": 1, "reply": r, "parent_ids": ["m1"]} for i, r in enumerate(replies)]
    return candidates(proposals, metas, [{"id": f"p{i}", "prompt": p} for i, p in enumerate(pool)], PARAMS)


def reasons(rows: list) -> list:
    return [r.reason if isinstance(r, Rejected) else "kept" for r in rows]


def test_an_echo_of_the_meta_prompt_is_rejected():
    assert reasons(run(META, "MODEL_PROMPT: " + META.splitlines()[0])) == ["echo", "echo"]


def test_reusing_a_shown_prompt_after_a_label_is_not_an_echo():
    # normalised, the reply holds the meta prompt's line 'prompt: "<shown prompt>', longer than echo_min_chars
    rows = run(f'Here is an improved prompt:\n\n"{SHOWN} Think about the moral."')
    assert reasons(rows) == ["kept"]
    assert rows[0]["prompt"] == f"{SHOWN} Think about the moral."


def test_duplicates_of_the_pool_and_of_this_iteration_are_rejected():
    rows = run("MODEL_PROMPT: answer the question about the STORY above", "Read closely.", "read   closely",
               "Pick one letter.")
    assert reasons(rows) == ["duplicate", "kept", "duplicate", "kept"]
    assert rows[2].detail == "read   closely"


def test_empty_and_overlong_proposals_are_rejected_with_their_reason():
    rows = run("MODEL_PROMPT:", '""', "<INS></INS>", "word " * 13)
    assert reasons(rows) == ["empty", "empty", "empty", "overlong"]
    assert rows[3].detail == "13 words > max_prompt_words=12"


def test_a_kept_candidate_names_its_parents():
    (row,) = run("Read the story carefully.")
    assert row == {"prompt": "Read the story carefully.", "prompt_iteration": 1, "origin": "generated",
                   "parent_prompt_ids": ["p0"], "parent_ids": ["r0"]}
