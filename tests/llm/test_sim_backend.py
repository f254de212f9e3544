"""The sim backend: deterministic for a seed, realistic replies, ground truth aside, no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.llm import LLMConfigError, Request
from engine.llm.parse import extract_json
from tests.llm.conftest import prompts

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def sim_config(**overrides) -> dict:
    return {"backend": "sim", "cache": "off", "progress": False, **overrides}


def json_requests(n: int) -> list[Request]:
    return [
        Request([{"role": "user", "content": f"describe item {i} please"}], task="generic.json", sample_index=i % 3)
        for i in range(n)
    ]


def test_same_seed_same_replies_whatever_the_order_and_concurrency(make):
    requests = json_requests(30)
    forward = make(sim_config(sim={"seed": 7}, max_in_flight=1))[0].complete(requests)
    backward = make(sim_config(sim={"seed": 7, "latency_ms": 1}, max_in_flight=16))[0].complete(requests[::-1])
    assert [r.text for r in forward] == [r.text for r in backward][::-1]


def test_another_seed_gives_other_replies(make):
    requests = json_requests(30)
    seven = make(sim_config(sim={"seed": 7}))[0].complete(requests)
    eight = make(sim_config(sim={"seed": 8}))[0].complete(requests)
    assert [r.text for r in seven] != [r.text for r in eight]


def test_replies_look_like_a_models_and_truth_goes_to_its_sink(make):
    llm, ledger, truth = make(sim_config(sim={"seed": 1, "generic": {"json_broken_rate": 0.2}}))
    responses = llm.complete(json_requests(60))
    forms = {json.loads(row["truth"])["form"] for row in truth}
    assert forms == {"bare", "fenced", "prose", "broken"}
    parsed = [extract_json(r.text) for r in responses]
    assert sum(error is not None for _, error in parsed) == sum(
        json.loads(row["truth"])["form"] == "broken" for row in truth
    )
    assert [row["key"] for row in truth] == [r.key for r in responses]
    assert all(r.simulated and r.completion_tokens > 0 and r.prompt_tokens > 0 for r in responses)
    assert all(row["stage"] == "test_stage" and row["task"] == "generic.json" for row in truth)


def test_sim_truth_follows_cached_replies_into_a_new_run(make):
    make(sim_config(cache="readwrite"))[0].complete(json_requests(3))
    llm, _, truth = make(sim_config(cache="readwrite"))
    assert all(r.cached for r in llm.complete(json_requests(3)))
    assert len(truth) == 3 and all(json.loads(row["truth"])["value"] for row in truth)


def test_answer_letter_logprobs(make):
    llm, _, _ = make(sim_config())
    question = "Pick one.\nA) red\nB) green\nC) blue\nD) black"
    [response] = llm.complete(
        [Request([{"role": "user", "content": question}], task="generic.choice", logprobs=True, top_logprobs=2)]
    )
    letter = next(t for t in response.logprobs if t.token in "ABCD")
    assert len(letter.top) == 2 and letter.token in response.text


def test_max_tokens_cuts_the_reply_with_finish_reason_length(make):
    llm, _, _ = make(sim_config())
    [response] = llm.complete(prompts(1, max_tokens=2))
    assert response.reason == "truncated" and response.text is None
    assert response.partial == "prompt number" and response.finish_reason == "length"


def test_unknown_task_is_a_config_error_naming_it(make):
    llm, _, _ = make(sim_config())
    with pytest.raises(LLMConfigError, match="no_such_experiment"):
        llm.complete(prompts(1, task="no_such_experiment.judge"))
    with pytest.raises(LLMConfigError, match="<experiment>.<task>"):
        llm.complete(prompts(1, task="bare"))


def test_sim_and_openai_runs_never_import_torch(tmp_path):
    script = (
        "import sys\n"
        "from engine.llm import Request, make_llm\n"
        "from engine.testing.fake_openai import serve_in_thread\n"
        f"cache = {str(tmp_path)!r}\n"
        "r = [Request([{'role': 'user', 'content': 'hi'}], task='generic.echo')]\n"
        "sim = make_llm({'progress': False}, stage='s', role='r', cache_dir=cache, ledger=[], truth=[])\n"
        "assert sim.complete(r)[0].ok\n"
        "with serve_in_thread() as srv:\n"
        "    cfg = {'backend': 'openai', 'base_url': srv.base_url, 'api_key': 'x', 'progress': False}\n"
        "    assert make_llm(cfg, stage='s', role='r', cache_dir=cache, ledger=[], truth=[]).complete(r)[0].ok\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True, timeout=120)
