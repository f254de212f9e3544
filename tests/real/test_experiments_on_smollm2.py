"""Every experiment at its tiny size (conf/tiny/) completes on a real 135M instruct model, in process and
behind a real OpenAI-compatible server: few rows survive, every lost row has a reason, no stage crashes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import compose_and_run, table
from tests.real.conftest import SERVERS, cpu_seconds

# demo calls no model: it shows that an llm block for a real backend costs a graph without model stages nothing
EXPERIMENTS = ["prompt_opt", "principle_examples", "codegen_alignment", "autoif", "demo"]
# a real model on a shared 2-core machine: one tiny run took up to ~7 minutes at load 13 (docs/real_models.md)
pytestmark = [pytest.mark.real, pytest.mark.timeout(1200)]


def tiny(name: str) -> list[str]:
    """The experiment's tiny recipe (conf/tiny/NAME.yaml); demo is tiny as it is."""
    return [] if name == "demo" else [f"+tiny={name}"]


def run_tiny(name: str, backend: str, tmp_path: Path, *overrides: str, server: str | None = None) -> dict:
    """The tiny run, checked, its funnel recorded with the CPU seconds it cost this process and the server."""
    pid = SERVERS.get(server) if server else None
    started = (cpu_seconds(), cpu_seconds(pid) if pid else 0.0)
    summary = compose_and_run(name, *tiny(name), *overrides, run_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    cpu = {"process": round(cpu_seconds() - started[0], 1)}
    if pid:
        cpu["server"] = round(cpu_seconds(pid) - started[1], 1)
    _check(summary, name, backend, cpu)
    return summary


def _check(summary: dict, name: str, backend: str, cpu: dict) -> None:
    record_funnel(summary, name, backend, cpu)
    assert summary["status"] == "ok", summary["error"]
    assert summary["llm"]["failures"] == 0, summary["llm"]
    assert (summary["llm"]["calls"] > 0) == (name != "demo"), summary["llm"]


def record_funnel(summary: dict, name: str, backend: str, cpu: dict) -> None:
    """With EXECFEED_REAL_REPORT_DIR set, each run's funnel (rows kept and rejected by reason, per stage), status,
    time and CPU seconds (this process's; a server's beside it) go to NAME.BACKEND.json there: the figures
    docs/real_models.md quotes, the load average at the end beside them."""
    out = os.environ.get("EXECFEED_REAL_REPORT_DIR")
    if not out:
        return
    funnel = {stage: {"kept": stats.get("rows_out"), "rejected": stats.get("rejected") or {},
                      "seconds": stats.get("seconds")}
              for stage, stats in summary["stages"].items()}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / f"{name}.{backend}.json").write_text(json.dumps(
        {"status": summary["status"], "error": summary.get("error"), "seconds": summary["seconds"],
         "cpu_seconds": cpu, "load_average": os.getloadavg(), "llm": summary["llm"], "funnel": funnel}, indent=1))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_experiment_on_the_hf_backend(name, smollm2, torch_threads, tmp_path):
    run_tiny(name, "hf", tmp_path, "llm=hf", f"llm.model={smollm2}")
    if name == "principle_examples":  # items without a rewrite reach the failure analysis
        [(failed,)] = table(tmp_path / "run", "select count(*) from evaluation_seed where split = 'validation' "
                                              "and not passed")
        [(shown,)] = table(tmp_path / "run", "select count(*) from failures")
        assert shown == failed


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_experiment_behind_transformers_serve(name, smollm2, transformers_serve, tmp_path):
    # up to 4 requests in flight: the server batches them (continuous batching), its decoding steps shared
    summary = run_tiny(name, "serve", tmp_path, "llm=openai", f"llm.base_url={transformers_serve}",
                       f"llm.model={smollm2}", "llm.api_key=local", "llm.max_in_flight=4", "llm.timeout_s=300",
                       "llm.max_retries=1", server=transformers_serve)
    if name == "prompt_opt":  # the server ignores logprobs: cross-entropy is unavailable, not invented
        assert "no_logprobs" in "".join(summary["prompt_opt"]["cross_entropy_from"])
        assert "unavailable" in summary["prompt_opt"]["cross_entropy_note"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_experiment_behind_llama_cpp_server(name, llama_cpp_server, tmp_path):
    summary = run_tiny(name, "llama_cpp", tmp_path, "llm=openai", f"llm.base_url={llama_cpp_server}",
                       "llm.model=SmolLM2", "llm.api_key=local", "llm.max_in_flight=1", "llm.timeout_s=300",
                       "llm.max_retries=1", server=llama_cpp_server)
    if name == "prompt_opt":  # this server returns logprobs: cross-entropy is read at the answer letter's token
        assert "top_logprobs" in "".join(summary["prompt_opt"]["cross_entropy_from"])
