"""Every experiment at its tiny size (conf/tiny/) completes on a real 135M instruct model, in process and
behind a real OpenAI-compatible server: few rows survive, every lost row has a reason, no stage crashes."""

from __future__ import annotations

import pytest

from tests.conftest import compose_and_run, table

# autoif is left out until an all-rejected stage keeps its columns: on this model nli ends empty and
# constraints_aligned.sql fails to bind constraint_id (issue 16)
EXPERIMENTS = ["prompt_opt", "principle_examples", "codegen_alignment"]
pytestmark = pytest.mark.real


def _check(summary: dict, name: str) -> None:
    assert summary["status"] == "ok", summary["error"]
    assert summary["llm"]["calls"] > 0 and summary["llm"]["failures"] == 0, summary["llm"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_experiment_on_the_hf_backend(name, smollm2, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    summary = compose_and_run(name, f"+tiny={name}", "llm=hf", f"llm.model={smollm2}",
                              run_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    _check(summary, name)
    if name == "principle_examples":  # items without a rewrite reach the failure analysis
        [(failed,)] = table(tmp_path / "run", "select count(*) from evaluation_seed where split = 'validation' "
                                              "and not passed")
        [(shown,)] = table(tmp_path / "run", "select count(*) from failures")
        assert shown == failed


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_experiment_behind_transformers_serve(name, smollm2, transformers_serve, tmp_path):
    summary = compose_and_run(name, f"+tiny={name}", "llm=openai", f"llm.base_url={transformers_serve}",
                              f"llm.model={smollm2}", "llm.api_key=local", "llm.max_in_flight=2",
                              "llm.timeout_s=300", "llm.max_retries=1",
                              run_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    _check(summary, name)
    if name == "prompt_opt":  # the server ignores logprobs: cross-entropy is unavailable, not invented
        assert "no_logprobs" in "".join(summary["prompt_opt"]["cross_entropy_from"])
        assert "unavailable" in summary["prompt_opt"]["cross_entropy_note"]
