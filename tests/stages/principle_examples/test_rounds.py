"""The pieces of one round: structured prompt generation, the checker gate, the duplicate gate, the library
version, and a sim teacher that learns from good examples."""

from __future__ import annotations

import random
from types import SimpleNamespace

from engine.config import PROJECT_ROOT
from engine.rows import Rejected
from helpers.principle_examples.principle import Principle
from helpers.principle_examples.teaching import extract_rewrite
from sims.principle_examples import teacher as sim_teacher
from stages.principle_examples.candidates_checked import Params as CheckParams
from stages.principle_examples.candidates_checked import candidates_checked
from stages.principle_examples.examples_added import Params as AddParams
from stages.principle_examples.examples_added import examples_added
from stages.principle_examples.human_prompts import parse_prompts, template_placeholders
from stages.principle_examples.library import library

GOOD = ("Above all, rest. Do it daily. Aim high. Plan ahead. Try again. Ideally, sleep. Very well. "
        "Enjoy it.")
PRINCIPLE = Principle(name="p", target="ADAPTIVE", text='spell "{target}"', critique_request="c",
                      rewrite_request="r", checker={"kind": "python"})


def test_prompt_lists_with_the_wrong_count_or_broken_json_are_refused_with_a_reason():
    assert parse_prompts('```json\n{"prompts": ["a", "b", "c"]}\n```', 3) == (["a", "b", "c"], "", "")
    assert parse_prompts('Here: ["a", "b", "c"]', 3)[0] == ["a", "b", "c"]
    assert parse_prompts('{"prompts": ["a", "b"]}', 3)[1:] == ("wrong_count", "asked for exactly 3 prompts, got 2")
    assert parse_prompts('{"prompts": ["a", "b", "c"', 3)[1] == "broken_json"
    assert parse_prompts('{"prompts": "a, b, c"}', 3)[1] == "wrong_schema"


def test_prompt_lists_in_real_reply_shapes_are_read():
    assert parse_prompts("{'prompts': ['a', 'b']}", 2)[0] == ["a", "b"]  # a Python literal
    assert parse_prompts("Sure! Here are two:\n1. Write a haiku.\n2. **Explain** tides.", 2)[0] == [
        "Write a haiku.", "Explain tides."]
    assert parse_prompts("- one\n- two\n- three", 2)[1] == "broken_json"  # a list of the wrong length


def test_prompts_that_repeat_the_templates_example_are_refused():
    prompt = (PROJECT_ROOT / "stages/principle_examples/prompts/generate.txt").read_text().format(
        principle="p", analysis="a", count=2, failures="f")
    placeholders = template_placeholders(prompt)
    assert placeholders == {"first request", "second request"}
    assert parse_prompts('{"prompts": ["first request", "Write a poem."]}', 2, placeholders)[1] == (
        "template_placeholder")


def test_rewrites_are_read_past_bold_labels_preambles_and_remarks():
    assert extract_rewrite("Sure. **REWRITE:** Always rest.\n\nNote: this spells A.") == "Always rest."
    assert extract_rewrite("REWRITE:\n```\nAim high.\n```") == "Aim high."
    assert extract_rewrite("Here is a better answer: Aim high.") is None


def candidate(i: int, prompt: str, rewrite: str) -> dict:
    return {"id": f"c{i}", "parent_ids": [f"s{i}"], "human_prompt": prompt, "assistant_answer": "x",
            "critique": "y", "rewrite": rewrite, "critique_key": "", "llm_key": "", "simulated": True}


def test_only_compliant_rewrites_pass_the_checker_and_the_others_keep_their_letters():
    ctx = SimpleNamespace(project_root=PROJECT_ROOT)
    out = candidates_checked([candidate(0, "q", GOOD), candidate(1, "q2", GOOD.replace("Very well. ", ""))],
                             CheckParams(principle=PRINCIPLE), ctx)
    assert out[0]["letters"] == "ADAPTIVE" and out[0]["parent_ids"] == ["c0"]
    assert isinstance(out[1], Rejected) and (out[1].reason, out[1].detail) == ("not_compliant", "letters ADAPTIE")


def test_near_duplicates_of_the_library_this_round_or_validation_are_not_added():
    checked = [candidate(0, "Write a haiku about a mountain lake.", GOOD) | {"letters": "ADAPTIVE"},
               candidate(1, "Write a haiku about a mountain lake!", GOOD) | {"letters": "ADAPTIVE"},
               candidate(2, "List five fruits that are high in vitamin C", GOOD) | {"letters": "ADAPTIVE"},
               candidate(3, "why is the sky blue", GOOD) | {"letters": "ADAPTIVE"},
               candidate(4, "Write a SQL query that lists orders from 2023.", GOOD) | {"letters": "ADAPTIVE"}]
    library_prev = [{"id": "e1", "human_prompt": "List five fruits that are high in vitamin C."}]
    validation = [{"item_id": "v1", "human_prompt": "Why is the sky blue?"}]
    out = examples_added(checked, library_prev, validation, AddParams(duplicate_similarity=0.9))
    kept = [o["human_prompt"] for o in out if not isinstance(o, Rejected)]
    reasons = [(o.reason, o.detail.split()[-1]) for o in out if isinstance(o, Rejected)]
    assert kept == ["Write a haiku about a mountain lake.", "Write a SQL query that lists orders from 2023."]
    assert reasons == [("duplicate", "round)"), ("duplicate", "e1"), ("copies_validation", "v1")]


def test_a_new_version_keeps_its_parents_examples_unchanged_and_tags_the_new_ones():
    prev = [{"id": "e1", "parent_ids": ["s"], "version": 2, "added_in_version": 0, "human_prompt": "a",
             "assistant_answer": "b", "critique": "c", "rewrite": GOOD, "letters": "ADAPTIVE", "simulated": False}]
    added = [{"id": "x9", "parent_ids": ["c"], "human_prompt": "new", "assistant_answer": "b", "critique": "c",
              "rewrite": GOOD, "letters": "ADAPTIVE", "simulated": True}]
    rows = library(prev, added, SimpleNamespace(iteration=2))
    assert rows[0] == prev[0] | {"version": 3}
    assert rows[1]["version"] == rows[1]["added_in_version"] == 3 and rows[1]["parent_ids"] == ["x9"]
    assert rows[1]["id"].startswith("example:")


def follow_rate(examples: list[tuple[str, str]], request: str, samples: int = 300) -> float:
    block = "".join(f"=== Example {i} ===\nHuman: {h}\n\nAssistant: x\n\nCritique: y\n\nRewrite: {r}\n"
                    f"=== End of example {i} ===\n" for i, (h, r) in enumerate(examples, 1))
    messages = [{"role": "system", "content": 'Principle: spell "ADAPTIVE".'},
                {"role": "user", "content": f"{block}Conversation to review:\n\nHuman: {request}\n\nAssistant: "
                                            "Sure.\n\nCritique it."},
                {"role": "assistant", "content": "critique"}, {"role": "user", "content": "Rewrite it."}]
    replies = [sim_teacher.rewrite(messages, random.Random(seed), {}) for seed in range(samples)]
    return sum(bool(r.truth.get("followed")) for r in replies) / samples


def test_the_sim_teacher_follows_more_often_with_more_and_more_varied_good_examples():
    request = "Write a haiku about the sea."
    same_kind = [("Write a haiku about rain.", GOOD), ("Write a haiku about snow.", GOOD)]
    varied = [("Write a haiku about rain.", GOOD), ("List three fruits.", GOOD), ("Reply with JSON only.", GOOD)]
    bad = [("Write a haiku about rain.", "Rain falls. Softly.")] * 3
    none_, few, more = follow_rate([], request), follow_rate(same_kind[:1], request), follow_rate(same_kind, request)
    assert none_ < few < more
    assert follow_rate(varied, request) > follow_rate([varied[0]] * 3, request)
    assert follow_rate(bad, request) == none_  # examples that break the principle teach nothing
