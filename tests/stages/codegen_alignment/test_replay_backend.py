"""The replay backend serves recorded samples by prompt and sample index, and says why when it cannot."""

from __future__ import annotations

import json

import pytest

from engine.llm import Request, make_llm

PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'


@pytest.fixture
def replay_llm(tmp_path):
    path = tmp_path / "samples.jsonl"
    record = {"prompt": PROMPT, "samples": ["    return a + b\n# done", "    return a - b\n"]}
    path.write_text(json.dumps(record) + "\n")

    def make(match: str):
        cfg = {"backend": "replay", "model": "recorded", "cache": "off", "progress": False, "max_retries": 0,
               "replay": {"match": match, "files": {"exp.functions": str(path)}}}
        return make_llm(cfg, stage="s", role="r", cache_dir=tmp_path / "cache", ledger=[], truth=[])

    return make


def test_a_prompt_asking_for_the_same_function_gets_the_recorded_sample(replay_llm):
    llm = replay_llm("signature")
    wrapped = f"Complete this function:\n```python\n{PROMPT}```"
    first, second = llm.complete([Request([{"role": "user", "content": wrapped}], task="exp.functions",
                                          sample_index=i, stop=["\n#"]) for i in (0, 1)])
    assert (first.ok, first.text, first.simulated) == (True, "    return a + b", False)
    assert second.text == "    return a - b\n"


def test_prompt_matching_needs_the_exact_recorded_prompt(replay_llm):
    llm = replay_llm("prompt")
    exact, other = llm.complete([Request([{"role": "user", "content": PROMPT}], task="exp.functions"),
                                 Request([{"role": "user", "content": "x" + PROMPT}], task="exp.functions")])
    assert exact.text.startswith("    return a + b")
    assert not other.ok and "matches this prompt" in other.error


def test_past_the_recorded_samples_or_an_unknown_task_is_a_failed_response(replay_llm):
    llm = replay_llm("signature")
    past, unknown = llm.complete([Request([{"role": "user", "content": PROMPT}], task="exp.functions", sample_index=2),
                                  Request([{"role": "user", "content": PROMPT}], task="exp.tests")])
    assert not past.ok and "2 samples were recorded" in past.error
    assert not unknown.ok and "no replay file for task 'exp.tests'" in unknown.error
