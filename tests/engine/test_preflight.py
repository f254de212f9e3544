"""What the config points at is checked before the first stage: source files, directories, the sandbox, model keys
and endpoints. Each mistake stops the run in seconds, with nothing paid, naming the key, the file and the line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from engine.config import PROJECT_ROOT
from engine.preflight import check
from engine.testing.fake_openai import serve_in_thread, stats
from tests.engine.test_config_keys import composed, refused


def seeds(tmp_path: Path, content: bytes, suffix: str = ".jsonl") -> Path:
    path = tmp_path / f"data{suffix}"
    path.write_bytes(content)
    return path


def test_cut_jsonl_line_is_named_with_its_file_and_line(tmp_path):
    path = seeds(tmp_path, b'{"query": "a"}\n{"query": "b"}\n{"query": "c\n')
    error = refused("autoif", f"autoif.user_queries={path}", tmp_path=tmp_path)
    assert error.startswith("config error at autoif.user_queries (used as stages.user_queries.source): ")
    assert f"{path} line 3: not valid JSON (Unterminated string" in error


def test_latin1_bytes_are_named_as_an_encoding_error(tmp_path):
    path = seeds(tmp_path, '{"query": "a"}\n{"query": "café"}\n'.encode("latin-1"))
    error = refused("autoif", f"autoif.user_queries={path}", tmp_path=tmp_path)
    assert f"{path} line 2: not UTF-8 (byte 0xe9 at column 15)" in error


def test_a_byte_order_mark_is_named(tmp_path):
    path = seeds(tmp_path, b'\xef\xbb\xbf{"query": "a"}\n')
    error = refused("autoif", f"autoif.user_queries={path}", tmp_path=tmp_path)
    assert f"{path} starts with a byte order mark (BOM), which the JSON reader refuses" in error


@pytest.mark.parametrize("content", [b"", b"\n  \n\n"], ids=["empty", "blank_lines"])
def test_a_seed_file_without_rows_is_refused(tmp_path, content):
    path = seeds(tmp_path, content, ".txt")
    error = refused("autoif", f"autoif.seed_constraints={path}", tmp_path=tmp_path)
    assert error.startswith("config error at autoif.seed_constraints") and f"{path} has no rows" in error


def test_a_json_line_that_is_not_an_object_is_refused(tmp_path):
    path = seeds(tmp_path, b'{"query": "a"}\n["b"]\n')
    error = refused("autoif", f"autoif.user_queries={path}", tmp_path=tmp_path)
    assert f"{path} line 2: expected a JSON object, found list" in error


def test_unwritable_cache_dir_is_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    error = refused("demo", f"cache_dir={tmp_path / 'a_file' / 'cache'}", tmp_path=tmp_path)
    assert error == f"config error at cache_dir: cannot write to {tmp_path / 'a_file' / 'cache'}: Not a directory"


def test_sandbox_limit_out_of_range_is_refused_before_the_first_stage(tmp_path):
    error = refused("autoif", "sandbox.memory_mb=32", tmp_path=tmp_path)
    assert error == "config error at sandbox.memory_mb: Input should be greater than or equal to 64 (found 32)"


def test_openai_backend_without_a_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    error = refused("autoif", "llm=openai", tmp_path=tmp_path)
    assert error.startswith("config error at llm.api_key: role 'generator' uses the openai backend")
    assert "OPENAI_API_KEY" in error


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_that_does_not_answer_is_refused(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    error = refused("autoif", "llm=openai", f"llm.base_url={url}", "llm.api_key=x", tmp_path=tmp_path)
    assert error.startswith(f"config error at llm.base_url: endpoint {url} does not answer GET /models")


def test_endpoint_that_is_not_a_url_is_refused(tmp_path):
    error = refused("autoif", "llm=openai", "llm.base_url=localhost:8000", "llm.api_key=x", tmp_path=tmp_path)
    assert error.startswith("config error at llm.base_url: endpoint localhost:8000 does not answer GET /models "
                            "(unknown url type")


def test_hf_model_that_is_no_local_directory_is_refused(tmp_path):
    pytest.importorskip("transformers")
    error = refused("autoif", "llm=hf", f"llm.model={tmp_path / 'no_model'}", tmp_path=tmp_path)
    assert error == (f"config error at llm.model: no model directory '{tmp_path / 'no_model'}' (nor a model of that "
                     "name in the Hugging Face cache); the hf backend loads local models only")


def test_answering_endpoint_passes_without_a_paid_request(tmp_path):
    with serve_in_thread() as server:
        config, graph = check(composed("autoif", "llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=x",
                                       tmp_path=tmp_path))
        assert stats(server.base_url)["requests"] == 0
    assert "responses_scored" in graph.stages


def test_endpoint_check_can_be_turned_off(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    config, _ = check(composed("autoif", "llm=openai", f"llm.base_url={url}", "llm.api_key=x",
                               "check_endpoints=false", tmp_path=tmp_path))
    assert config.check_endpoints is False


def engine(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXECFEED_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=env, timeout=120)


def test_check_prints_the_graph_and_runs_nothing(tmp_path):
    res = engine("--check", "+experiment=autoif", f"hydra.run.dir={tmp_path / 'run'}", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    stages = OmegaConf.load(PROJECT_ROOT / "conf/experiment/autoif.yaml")["stages"]
    assert f"autoif: {len(stages)} stages, config and data checked" in res.stdout
    assert "responses_scored  fn stages.autoif.responses_scored:responses_scored  <- responses_verified  [llm:judge]" \
           "  => computed" in res.stdout
    assert f"would reuse 0 and compute {len(stages)} of the {len(stages)} slices" in res.stdout
    assert not (tmp_path / "run" / "run.duckdb").exists() and not (tmp_path / "run" / "summary.json").exists()


def test_check_says_what_would_be_reused(tmp_path):
    from engine.runner import run

    assert run(composed("demo", tmp_path=tmp_path), tmp_path / "run")["status"] == "ok"
    again = engine("--check", "+experiment=demo", f"hydra.run.dir={tmp_path / 'run'}", tmp_path=tmp_path)
    assert "  families  sql sql/demo/families.sql  <- constraints_verifiable  => reused (this run directory)" \
        in again.stdout
    assert "compose  loop, at most 3 iterations, the first 3 reused; iteration 0:" in again.stdout
    # what follows a loop depends on how many iterations it runs
    assert "catalogue  sql sql/demo/catalogue.sql  <- constraints_verifiable, compounds  => computed or reused: " \
           "decided when the loop before it has run" in again.stdout
    elsewhere = engine("--check", "+experiment=demo", "demo.per_round=2", f"hydra.run.dir={tmp_path / 'new'}",
                       tmp_path=tmp_path)
    assert "  families  sql sql/demo/families.sql  <- constraints_verifiable  => reused (stage store)" \
        in elsewhere.stdout
    assert "compounds  fn stages.demo.compounds:compounds  <- constraints_verifiable, compounds_history=compounds  " \
           "=> computed" in elsewhere.stdout


def test_check_of_a_bad_config_exits_non_zero_without_a_traceback(tmp_path):
    res = engine("--check", "+experiment=autoif", "+autoif.score_treshold=9", f"hydra.run.dir={tmp_path / 'run'}",
                 tmp_path=tmp_path)
    assert res.returncode == 1
    assert "config error at autoif.score_treshold" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "run" / "run.duckdb").exists()


def test_unwritable_run_dir_is_named_without_a_traceback(tmp_path):
    (tmp_path / "a_file").write_text("")
    res = engine("+experiment=demo", f"hydra.run.dir={tmp_path / 'a_file' / 'run'}", tmp_path=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"config error at hydra.run.dir: cannot write to {tmp_path / 'a_file' / 'run'}: Not a directory" \
        in res.stderr


def test_bad_data_in_a_run_stops_it_without_a_traceback(tmp_path):
    path = seeds(tmp_path, b'{"query": "a"}\n{"query": \n')
    res = engine("+experiment=autoif", f"autoif.user_queries={path}", f"hydra.run.dir={tmp_path / 'run'}",
                 tmp_path=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr + (tmp_path / "run" / "engine.log").read_text()
    assert f"{path} line 2: not valid JSON" in res.stderr
    assert not (tmp_path / "run" / "run.duckdb").exists()
