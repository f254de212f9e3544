"""The hf backend on tiny random models built in the test session: generation, logprobs, NLI."""

from __future__ import annotations

import math

import pytest

from engine.llm import LLMConfigError, Request
from engine.testing.tiny_models import NLI_LABELS


def hf_config(path, **overrides) -> dict:
    return {
        "backend": "hf",
        "model": str(path),
        "cache": "off",
        "progress": False,
        "hf": {"device": "cpu", "dtype": "float32", "batch_size": 3},
        **overrides,
    }


def chat(text: str, **fields) -> Request:
    # these tests read the backend's raw generations, cut at a few tokens on purpose: take cut replies as they are
    return Request([{"role": "user", "content": text}], task="test.generate", **{"truncation": "prefix", **fields})


def test_batched_generation_answers_every_request_in_order(tiny_lm, make):
    llm, ledger, _ = make(hf_config(tiny_lm))
    requests = [chat(f"the cat sat on the mat {'again ' * i}", max_tokens=5, temperature=0) for i in range(7)]
    responses = llm.complete(requests)
    assert all(r.ok and isinstance(r.text, str) for r in responses)
    assert all(1 <= r.completion_tokens <= 5 and r.finish_reason in ("stop", "length") for r in responses)
    assert [r.prompt_tokens for r in responses] == sorted(r.prompt_tokens for r in responses)  # order kept
    assert len({r.prompt_tokens for r in responses}) == 7
    assert [row["attempt"] for row in ledger] == [1] * 7
    assert llm.complete(requests) == responses  # greedy decoding replays exactly


def test_sampled_generation_is_seeded(tiny_lm, make):
    requests = [chat("hello world how are you", max_tokens=6, temperature=1.0, sample_index=i) for i in range(3)]
    first = make(hf_config(tiny_lm))[0].complete(requests)
    second = make(hf_config(tiny_lm))[0].complete(requests)
    assert [r.text for r in first] == [r.text for r in second]


def test_token_logprobs_with_top_alternatives(tiny_lm, make):
    llm, _, _ = make(hf_config(tiny_lm))
    [response] = llm.complete([chat("the answer is", max_tokens=4, temperature=0, logprobs=True, top_logprobs=3)])
    assert len(response.logprobs) == response.completion_tokens
    for token in response.logprobs:
        assert len(token.top) == 3 and token.logprob <= 0
        assert token.logprob == pytest.approx(max(token.top.values()))  # greedy picks the most likely token
        assert sum(math.exp(v) for v in token.top.values()) <= 1 + 1e-6


def test_stop_strings_cut_the_text(tiny_lm, make):
    llm, _, _ = make(hf_config(tiny_lm))
    [full] = llm.complete([chat("a dog runs", max_tokens=8, temperature=0)])
    words = full.text.split()
    if len(words) < 2:
        pytest.skip("the random model stopped too early for a stop string")
    [cut] = llm.complete([chat("a dog runs", max_tokens=8, temperature=0, stop=[" " + words[1]])])
    assert cut.text == words[0] and cut.finish_reason == "stop"


def test_nli_classification(tiny_nli, make):
    llm, ledger, _ = make(hf_config(tiny_nli))
    pairs = [
        ("the cat sat on the mat", "a cat sat"),
        ("hello world", "the dog runs in the park"),
        ("this sentence is true", "this sentence is false"),
        ("a", "b"),
    ]
    results = llm.classify(pairs)
    assert len(results) == 4
    for probs in results:
        assert set(probs) == set(NLI_LABELS.values())
        assert sum(probs.values()) == pytest.approx(1.0)
    assert len(ledger) == 4 and all(row["ok"] and row["prompt_tokens"] > 0 for row in ledger)


def test_classify_needs_the_hf_backend(make):
    llm, _, _ = make({"progress": False})
    with pytest.raises(LLMConfigError, match="cannot classify"):
        llm.classify([("a", "b")])


def test_a_missing_model_directory_is_a_config_error(tmp_path, make):
    llm, _, _ = make(hf_config(tmp_path / "nowhere"))
    with pytest.raises(LLMConfigError, match="nowhere"):
        llm.complete([chat("hi", max_tokens=2)])


def test_every_stage_shares_one_loaded_model(tiny_lm, make):
    first, _, _ = make(hf_config(tiny_lm))
    second, _, _ = make(hf_config(tiny_lm))
    assert first.backend._language_model()[1] is second.backend._language_model()[1]


def test_latency_is_compute_time_not_time_queued_for_a_batch(tiny_lm, make):
    import time

    llm, ledger, _ = make(hf_config(tiny_lm, hf={"batch_size": 1}))
    requests = [chat(f"hello world {'again ' * i}", max_tokens=6, temperature=0) for i in range(4)]
    started = time.perf_counter()
    llm.complete(requests)
    wall = time.perf_counter() - started
    # one batch at a time: queued time counted, the latencies would add up to about twice the wall time
    assert sum(row["latency_s"] for row in ledger) <= wall


def test_sampling_keeps_the_models_own_top_k(tmp_path, make):
    from transformers import GenerationConfig

    from engine.testing.tiny_models import build_tiny_causal_lm

    path = build_tiny_causal_lm(tmp_path / "top_k_1")
    # top_k=1 samples the greedy token whatever the temperature
    GenerationConfig(do_sample=True, top_k=1).save_pretrained(path)
    llm, _, _ = make(hf_config(path))
    greedy, sampled = llm.complete([chat("the cat sat", max_tokens=8, temperature=0),
                                    chat("the cat sat", max_tokens=8, temperature=2.0)])
    assert sampled.text == greedy.text


def test_a_classifier_without_nli_labels_is_refused_up_front(tmp_path, make):
    import torch
    from transformers import LlamaForSequenceClassification

    from engine.testing.tiny_models import _llama_config, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    LlamaForSequenceClassification(_llama_config(tokenizer, num_labels=2)).save_pretrained(tmp_path / "labels")
    tokenizer.save_pretrained(tmp_path / "labels")
    llm, _, _ = make(hf_config(tmp_path / "labels"))
    with pytest.raises(LLMConfigError, match=r"LABEL_0.*is it an NLI checkpoint"):
        llm.classify([("a", "b")])
