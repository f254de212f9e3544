"""What both transports of the openai backend (llm.transport) share: the endpoint a null base_url means, and one
DEBUG line per request on the `engine.llm.wire` logger, off by default."""

from __future__ import annotations

import logging
from collections import Counter

from engine.llm.config import LLMConfig
from engine.llm.openai_backend import endpoint_identity
from tests.llm.conftest import openai_config, prompts

WIRE_LOG = "engine.llm.wire"


def test_a_null_base_url_is_openai_base_url_on_either_transport(server, make, transport, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    llm, ledger, _ = make(openai_config(None, transport=transport))
    [response] = llm.complete(prompts(1))
    assert response.ok and response.text == "prompt number 0"
    assert server.server.stats()["requests"] == 1
    # the cache key names the server that answered, not api.openai.com
    assert endpoint_identity(LLMConfig.model_validate(openai_config(None))) == server.base_url


def test_without_openai_base_url_a_null_base_url_is_openai(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert endpoint_identity(LLMConfig.model_validate(openai_config(None))) == "https://api.openai.com/v1"


def wire_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == WIRE_LOG]


def test_each_request_is_one_debug_line_only_when_asked(server, make, transport, caplog):
    llm, _, _ = make(openai_config(server.base_url, transport=transport, cache="off", max_retries=2))
    with caplog.at_level(logging.INFO):  # the engine's default level
        llm.complete(prompts(2))
    assert wire_lines(caplog) == [] and server.server.stats()["requests"] == 2
    server.server.plan.append("server_error")
    with caplog.at_level(logging.DEBUG, logger=WIRE_LOG):  # what hydra.verbose=[engine.llm.wire] sets
        llm.complete(prompts(2))
    url = f"{server.base_url}/chat/completions"
    answered = "HTTP 200" if transport == "aiohttp" else "answered"
    assert Counter(wire_lines(caplog)) == {f"POST {url}: HTTP 500": 1, f"POST {url}: {answered}": 2}
    assert server.server.stats()["requests"] == 5
