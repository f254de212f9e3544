"""The endpoint check of the preflight: one GET /models per endpoint, which must serve each role's model when it
lists the models it serves. A mistake stops the run before its first stage, with no chat request sent, at the
key the user wrote (`llm.model`, `roles.<role>.model`) and with the models the endpoint serves."""

from __future__ import annotations

import socket

import pytest

from engine.preflight import check
from engine.testing.fake_openai import serve_in_thread, stats
from tests.engine.test_bad_input import engine
from tests.engine.test_config_keys import composed, refused


@pytest.fixture(scope="module")
def listing():
    """A loopback server that lists its models, as vLLM or OpenAI do."""
    with serve_in_thread(models=("gpt-4o-mini", "gpt-4o")) as running:
        yield running


def openai_on(server, *overrides: str) -> list[str]:
    return ["llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=x", *overrides]


def test_a_model_the_endpoint_does_not_serve_is_refused(tmp_path, listing):
    before = stats(listing.base_url)
    error = refused("autoif", *openai_on(listing, "llm.model=gpt-4o-mni"), tmp_path=tmp_path)
    assert error == (f"config error at llm.model: endpoint {listing.base_url} does not serve model 'gpt-4o-mni' "
                     "(role 'generator'); did you mean `gpt-4o-mini`? it serves gpt-4o, gpt-4o-mini "
                     "(check_endpoints=false skips this check)")
    after = stats(listing.base_url)
    assert after["requests"] == before["requests"] and after["answered"] == before["answered"]
    assert after["model_lists"] == before["model_lists"] + 1  # one list for every role of the endpoint


def test_a_role_whose_own_model_is_not_served_is_named_at_its_key(tmp_path, listing):
    error = refused("autoif", *openai_on(listing, "+roles.judge.model=llama-3-70b"), tmp_path=tmp_path)
    assert error.startswith(f"config error at roles.judge.model: endpoint {listing.base_url} does not serve model "
                            "'llama-3-70b' (role 'judge'); it serves gpt-4o, gpt-4o-mini")
    assert stats(listing.base_url)["requests"] == 0


def test_served_models_pass(tmp_path, listing):
    config, graph = check(composed("autoif", *openai_on(listing, "+roles.judge.model=gpt-4o"), tmp_path=tmp_path))
    assert config.roles["judge"]["model"] == "gpt-4o" and stats(listing.base_url)["requests"] == 0


def test_an_endpoint_that_lists_no_models_passes_whatever_the_model(tmp_path):
    with serve_in_thread() as server:  # GET /models is a 404, as on servers that answer any model name
        check(composed("autoif", *openai_on(server, "llm.model=anything-goes"), tmp_path=tmp_path))
        assert stats(server.base_url)["requests"] == 0


def test_a_null_base_url_is_checked_where_openai_base_url_points(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    error = refused("autoif", "llm=openai", "llm.api_key=x", tmp_path=tmp_path)
    assert error.startswith(f"config error at llm.base_url: endpoint {url} does not answer GET /models")


def test_on_the_command_line_a_model_not_served_exits_before_any_stage(tmp_path, listing):
    run_dir = tmp_path / "run"
    res = engine("+experiment=autoif", *openai_on(listing, "llm.model=gpt-5"), f"hydra.run.dir={run_dir}",
                 tmp_path=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr + (run_dir / "engine.log").read_text()
    assert f"config error at llm.model: endpoint {listing.base_url} does not serve model 'gpt-5'" in res.stderr
    assert not (run_dir / "run.duckdb").exists() and stats(listing.base_url)["requests"] == 0
