"""store=ducklake: the stage store in DuckLake with a real PostgreSQL server (pgserver) as catalog, shared by
runs that share nothing else (separate cache directories stand for separate machines)."""

from __future__ import annotations

import threading
import time

import pytest

from engine.config import ConfigError
from tests.conftest import table

pgserver = pytest.importorskip("pgserver", reason="store=ducklake tests need pgserver (a PostgreSQL server on PyPI)")
pytest.importorskip("psycopg", reason="store=ducklake needs psycopg (extra 'scale')")


def _extensions_load() -> str | None:
    from engine.store.ducklake import EXTENSIONS, extension_file

    try:
        for package in EXTENSIONS.values():
            extension_file(package)
    except ConfigError as e:
        return str(e)
    return None


if (why := _extensions_load()) is not None:
    pytest.skip(f"store=ducklake cannot load its DuckDB extensions here: {why}", allow_module_level=True)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def lake(catalog, tmp_path):
    """Overrides choosing a DuckLake store of its own (a fresh PostgreSQL database and data directory)."""
    import psycopg

    name = f"lake_{tmp_path.name.lower().replace('-', '_')}"[:60]
    with psycopg.connect(catalog, autocommit=True) as pg:
        pg.execute(f"CREATE DATABASE {name}")
    return {"catalog": catalog.replace("/postgres?", f"/{name}?"), "data_path": f"{tmp_path / 'lake'}/"}


def overrides(lake: dict) -> list[str]:
    return ["store=ducklake", f"store.catalog='{lake['catalog']}'", f"store.data_path='{lake['data_path']}'"]


def stage_tables(run_dir):
    names = [r[0] for r in table(run_dir, "SELECT table_name FROM information_schema.tables "
                                          "WHERE table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1")]
    return {n: table(run_dir, f"SELECT * FROM {n} ORDER BY id") for n in names if n not in ("llm_calls",)}


def test_a_run_on_another_machine_reuses_the_stages_in_the_lake(run_experiment, lake, tmp_path):
    lake_args = overrides(lake)
    first, first_dir = run_experiment("demo", *lake_args, run_dir=tmp_path / "a", cache_dir=tmp_path / "cache_a")
    assert first["status"] == "ok", first["error"]
    second, second_dir = run_experiment("demo", *lake_args, run_dir=tmp_path / "b", cache_dir=tmp_path / "cache_b")
    assert second["status"] == "ok", second["error"]
    stored = ("seed_constraints", "constraints_tagged", "constraints_verifiable", "compounds")
    assert all(not first["stages"][s]["reused"] for s in stored)
    assert all(second["stages"][s]["reused"] for s in stored)
    assert stage_tables(second_dir) == stage_tables(first_dir)


def test_the_local_default_store_is_untouched_by_the_lake(run_experiment, lake, tmp_path):
    run_experiment("demo", *overrides(lake), run_dir=tmp_path / "a", cache_dir=tmp_path / "cache")
    local, _ = run_experiment("demo", run_dir=tmp_path / "b", cache_dir=tmp_path / "cache")
    assert not any(s["reused"] for s in local["stages"].values())


def test_the_stage_lock_holds_across_connections_and_is_released(lake, tmp_path):
    from engine.config import StoreConfig
    from engine.store.ducklake import DuckLakeStore

    cfg = StoreConfig(kind="ducklake", **lake)
    a, b = DuckLakeStore(cfg, tmp_path / "a"), DuckLakeStore(cfg, tmp_path / "b")
    order: list[str] = []
    held = threading.Event()

    def first():
        with a.lock("f" * 64):
            held.set()
            time.sleep(0.5)
            order.append("a done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(10)
    with b.lock("f" * 64):
        order.append("b got it")
    thread.join()
    assert order == ["a done", "b got it"]


def test_ducklake_without_a_catalog_is_a_config_error(run_experiment, tmp_path):
    summary, _ = run_experiment("demo", "store=ducklake", "store.catalog=", f"store.data_path={tmp_path}/")
    assert summary["status"] == "failed" and "store" in summary["error"]
