"""`store=ducklake`: the shared stage store in DuckLake, for many writers on many machines.

The catalog is a PostgreSQL database (`store.catalog`, a libpq connection string or URI) and the data is
Parquet under `store.data_path` (a directory every machine mounts, or an object-store URL DuckDB can write).
It plays the role of engine.store.StageStore, keyed by fingerprint like it:

- `put`: the slice's kept and rejected rows (and its side tables, e.g. sim_truth) become tables
  `kept_<fingerprint>`, `rejected_<fingerprint>`, `side_<table>_<fingerprint>`, and a row of `stage_slices` records
  its stats; all in one DuckLake transaction, so a slice is there whole or not at all, whoever reads it and from
  wherever.
- `get`: a slice found in `stage_slices` is copied to local Parquet files under `<cache_dir>/ducklake/` (once
  per machine) and handed to the run like a local store's slice.
- `lock`: a PostgreSQL advisory lock on the fingerprint, so two jobs anywhere compute a stage once; the server
  drops it when the holder's connection dies, so a killed job never leaves a stage locked.

DuckDB extensions come from their PyPI packages (`duckdb-extension-ducklake`, `duckdb-extension-postgres`),
installed from the file inside the package, never downloaded. Each package holds the binary for exactly one
DuckDB version (1.5.5 today), so `store=ducklake` needs that duckdb.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from engine.config import ConfigError, StoreConfig
from engine.store import StoredSlice

LAKE = "execfeed_lake"
EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres"}
_installed: set[str] = set()  # extensions this process has installed into DuckDB's extension directory


def extension_file(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("store.kind", f"store=ducklake needs the PyPI package {package.replace('_', '-')} "
                          "(pip install 'execfeed[scale]')")
    root = Path(spec.submodule_search_locations[0])
    wanted = root / "extensions" / f"v{duckdb.__version__}"
    found = sorted(wanted.glob("*.duckdb_extension"))
    if not found:
        have = sorted(p.name for p in (root / "extensions").glob("v*"))
        raise ConfigError("store.kind", f"{package} holds DuckDB extensions for {have}, this is duckdb "
                          f"{duckdb.__version__}: install the duckdb version the extension was built for")
    return found[0]


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    for name, package in EXTENSIONS.items():
        if name not in _installed:
            con.execute(f"INSTALL '{extension_file(package)}'")
            _installed.add(name)
        con.execute(f"LOAD {name}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckLakeStore:
    def __init__(self, cfg: StoreConfig, cache_dir: Path):
        self.catalog = cfg.catalog
        self.data_path = cfg.data_path
        self.local = cache_dir / "ducklake"
        self.local.mkdir(parents=True, exist_ok=True)
        with self._lake() as con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {LAKE}.stage_slices (fingerprint VARCHAR, stats VARCHAR, "
                        "has_rejected BOOLEAN, side_tables VARCHAR[])")

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        load_extensions(con)
        con.execute(f"ATTACH IF NOT EXISTS {_sql_str('ducklake:postgres:' + self.catalog)} AS {LAKE} "
                    f"(DATA_PATH {_sql_str(self.data_path)})")

    @contextmanager
    def _lake(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect()
        try:
            self.attach(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def lock(self, fingerprint: str) -> Iterator[None]:
        import psycopg

        key = int.from_bytes(hashlib.sha256(fingerprint.encode()).digest()[:8], "big", signed=True)
        with psycopg.connect(self.catalog, autocommit=True) as pg:
            pg.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                pg.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def get(self, fingerprint: str) -> StoredSlice | None:
        local = self.local / fingerprint[:2] / fingerprint
        if (local / "stats.json").is_file():  # copied to this machine before; the lake never changes a slice
            rejected = local / "rejected.parquet"
            side = {p.name.removeprefix("side.").removesuffix(".parquet"): p for p in local.glob("side.*.parquet")}
            return StoredSlice(local / "kept.parquet", rejected if rejected.is_file() else None,
                               json.loads((local / "stats.json").read_text()), side)
        with self._lake() as con:
            row = con.execute(f"SELECT stats, has_rejected, side_tables FROM {LAKE}.stage_slices "
                              "WHERE fingerprint = ?", [fingerprint]).fetchone()
            if row is None:
                return None
            tmp = local.with_name(f"{fingerprint}.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            con.execute(f"COPY (SELECT * FROM {LAKE}.kept_{fingerprint}) TO '{tmp / 'kept.parquet'}' "
                        "(FORMAT parquet)")
            if row[1]:
                con.execute(f"COPY (SELECT * FROM {LAKE}.rejected_{fingerprint}) TO '{tmp / 'rejected.parquet'}' "
                            "(FORMAT parquet)")
            for table in row[2]:
                con.execute(f"COPY (SELECT * FROM {LAKE}.side_{table}_{fingerprint}) TO "
                            f"'{tmp / f'side.{table}.parquet'}' (FORMAT parquet)")
        (tmp / "stats.json").write_text(row[0])
        shutil.rmtree(local, ignore_errors=True)
        tmp.rename(local)
        return self.get(fingerprint)

    def put(self, con: duckdb.DuckDBPyConnection, fingerprint: str, kept_sql: str,
            rejected_sql: str | None, stats: dict, side_tables: dict[str, str]) -> None:
        self.attach(con)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE OR REPLACE TABLE {LAKE}.kept_{fingerprint} AS {kept_sql}")
            if rejected_sql is not None:
                con.execute(f"CREATE OR REPLACE TABLE {LAKE}.rejected_{fingerprint} AS {rejected_sql}")
            for table, select in side_tables.items():
                con.execute(f"CREATE OR REPLACE TABLE {LAKE}.side_{table}_{fingerprint} AS {select}")
            con.execute(f"DELETE FROM {LAKE}.stage_slices WHERE fingerprint = ?", [fingerprint])
            con.execute(f"INSERT INTO {LAKE}.stage_slices VALUES (?, ?, ?, ?)",
                        [fingerprint, json.dumps(stats), rejected_sql is not None, sorted(side_tables)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f"DETACH {LAKE}")
