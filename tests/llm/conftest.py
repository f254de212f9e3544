"""Fixtures for the LLM layer: the real loopback server, real LLMs against it, tiny real models."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.llm import LLM, Request, make_llm
from engine.testing.fake_openai import serve_in_thread


@pytest.fixture
def server():
    """The loopback OpenAI-compatible server in a thread; `server.server` is the FakeOpenAI to inspect."""
    with serve_in_thread(slow_s=5.0, retry_after_s=0.01) as handle:
        yield handle


TRANSPORTS = ("aiohttp", "sdk")  # llm.transport: the openai backend's behaviour must not depend on it


@pytest.fixture(params=TRANSPORTS)
def transport(request) -> str:
    return request.param


def openai_config(base_url: str, **overrides) -> dict:
    """A role config for the openai backend against the loopback server, with fast retries."""
    return {
        "backend": "openai",
        "model": "fake-model",
        "base_url": base_url,
        "api_key": "test",
        "timeout_s": 30.0,  # generous: no test here may see a late reply on a busy machine as a fault
        "max_retries": 3,
        "backoff_s": 0.01,
        "backoff_max_s": 0.05,
        "progress": False,
        "prices": {"fake-model": {"input": 1.0, "output": 2.0}},
        **overrides,
    }


@pytest.fixture
def make(tmp_path: Path):
    """make(role_cfg) -> (llm, ledger, truth), all LLMs of a test sharing one cache directory."""

    def build(role_cfg: dict, cache_dir: Path | None = None) -> tuple[LLM, list, list]:
        ledger: list = []
        truth: list = []
        llm = make_llm(
            role_cfg,
            stage="test_stage",
            role="teacher",
            cache_dir=cache_dir or tmp_path / "cache",
            ledger=ledger,
            truth=truth,
        )
        return llm, ledger, truth

    return build


def prompts(n: int, task: str = "generic.echo", **fields) -> list[Request]:
    return [Request([{"role": "user", "content": f"prompt number {i}"}], task=task, **fields) for i in range(n)]


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    from engine.testing.tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_nli(tmp_path_factory) -> Path:
    from engine.testing.tiny_models import build_tiny_nli_classifier

    return build_tiny_nli_classifier(tmp_path_factory.mktemp("tiny_nli"))
