"""llm.cache_db: the response cache in a real PostgreSQL server (pgserver), shared by runs that share no
cache_dir, as machines without a shared filesystem would."""

from __future__ import annotations

import json

import pytest

from engine.llm.pg_cache import PgResponseCache
from engine.llm.types import Response
from engine.runner import run
from engine.testing.fake_openai import serve_in_process, stats
from tests.conftest import table

pgserver = pytest.importorskip("pgserver", reason="llm.cache_db tests need pgserver (a PostgreSQL server on PyPI)")
pytest.importorskip("psycopg", reason="llm.cache_db needs psycopg (extra 'scale')")

N = 30


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def config(tmp_path, machine: str, base_url: str, cache_db: str, cache: str = "readwrite") -> dict:
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(N)))
    return {"name": "t", "seed": 0, "cache_dir": str(tmp_path / machine / "cache"), "progress": False,
            "llm": {"backend": "openai", "model": "fake-model", "base_url": base_url, "api_key": "test",
                    "max_in_flight": 4, "progress": False, "cache": cache, "cache_db": cache_db},
            "roles": {"teacher": {}}, "sandbox": {},
            "stages": {"numbers": {"source": str(numbers)},
                       "echoed": {"fn": "tests.engine.fixture_stages:echoed", "inputs": ["numbers"],
                                  "llm": ["teacher"]}}}


def test_a_run_on_another_machine_is_answered_from_the_shared_cache(tmp_path, database):
    with serve_in_process("--latency-ms", "5") as base_url:
        first = run(config(tmp_path, "a", base_url, database), tmp_path / "a" / "run")
        assert first["status"] == "ok", first["error"]
        assert stats(base_url)["requests"] == N
        second = run(config(tmp_path, "b", base_url, database), tmp_path / "b" / "run")
        assert second["status"] == "ok", second["error"]
        assert stats(base_url)["requests"] == N  # nothing sent again
    assert second["llm"]["cache_hits"] == N and first["llm"]["cache_hits"] == 0
    assert not (tmp_path / "a" / "cache" / "llm_responses.sqlite").exists()
    query = "select reply from echoed order by id"
    assert table(tmp_path / "b" / "run", query) == table(tmp_path / "a" / "run", query)


def test_failures_are_not_stored_and_readonly_stores_nothing(database):
    ok = Response(ok=True, text="yes", error=None, finish_reason="stop")
    failed = Response(ok=False, text=None, error="HTTP 500", finish_reason=None)
    writer, reader = PgResponseCache(database, "readwrite"), PgResponseCache(database, "readonly")
    writer.put("k-ok", ok, {"t": 1})
    writer.put("k-failed", failed, None)
    reader.put("k-readonly", ok, None)
    found = reader.get_many(["k-ok", "k-failed", "k-readonly", "k-ok"])
    assert set(found) == {"k-ok"}
    assert found["k-ok"][0].text == "yes" and found["k-ok"][1] == {"t": 1}
    assert PgResponseCache(database, "off").get_many(["k-ok"]) == {}

