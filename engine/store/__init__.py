"""Where stage outputs live.

Two places, because DuckDB allows one writer per file and sweep jobs run in parallel:
- `run.duckdb` in the run directory: one table per stage (plus `<stage>__rejected`), written only by the run's
  own process, which keeps it closed while Python stages wait on models, so that `engine.inspect` or the DuckDB
  CLI can read between writes (see RunDB).
- the stage store, shared by runs (`<cache_dir>/stages/`): each finished stage slice as Parquet files under its
  fingerprint, written to a temporary folder and renamed into place (atomic), with a lock per fingerprint so two
  jobs that need the same stage compute it once.
A whole stage is written once, to the store, and its table in `run.duckdb` is a view of that Parquet, whether
the run computed it or reused it (engine.store.materialise.commit_to_store): the run directory reads its stages
from the stage store. A loop's iterations, a stage kept out of the store (`store: false`, or incomplete after
failed model calls) and a DuckLake store's stages are tables in `run.duckdb`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock

log = logging.getLogger("engine")
META_TABLE = "_stages"
FILES_TABLE = "stage_files"  # files stages wrote as products of the run (engine.products)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class StoredSlice:
    kept: Path
    rejected: Path | None
    stats: dict
    side_tables: dict[str, Path]  # run table -> Parquet file of rows to append to it (e.g. sim_truth)


# zstd's level 1 writes a stage in ~3/4 of the default level's CPU time, for a file of about the same size (the
# Parquet copy was a third of the engine's work in benchmarks.engine_overhead): every id is a hash, which no level
# compresses much
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"


class StageStore:
    """Finished stage slices keyed by fingerprint, as Parquet, shared by every run on this machine."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, fingerprint: str) -> Path:
        return self.root / fingerprint[:2] / fingerprint

    def lock(self, fingerprint: str) -> FileLock:
        path = self._dir(fingerprint).with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(path))

    def get(self, fingerprint: str) -> StoredSlice | None:
        d = self._dir(fingerprint)
        stats_file = d / "stats.json"
        if not stats_file.is_file():  # written last: its presence means the slice is complete
            return None
        rejected = d / "rejected.parquet"
        side = {p.name.removeprefix("side.").removesuffix(".parquet"): p for p in d.glob("side.*.parquet")}
        return StoredSlice(d / "kept.parquet", rejected if rejected.is_file() else None,
                           json.loads(stats_file.read_text()), side)

    def put(self, con: duckdb.DuckDBPyConnection, fingerprint: str, kept_sql: str,
            rejected_sql: str | None, stats: dict, side_tables: dict[str, str]) -> None:
        with self.writing(fingerprint) as slice_dir:
            write_parquet(con, kept_sql, slice_dir / "kept.parquet")
            if rejected_sql is not None:
                write_parquet(con, rejected_sql, slice_dir / "rejected.parquet")
            self.finish(con, slice_dir, stats, side_tables)

    @contextmanager
    def writing(self, fingerprint: str) -> Iterator[Path]:
        """A folder to write a slice into (kept.parquet, rejected.parquet, then `finish`): renamed into place
        under `fingerprint` when the block ends, removed when it raises, so a slice is there whole or not at all."""
        final = self._dir(fingerprint)
        tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)

    @staticmethod
    def finish(con: duckdb.DuckDBPyConnection, slice_dir: Path, stats: dict, side_tables: dict[str, str]) -> None:
        """The last files of a slice being written: its side tables, then stats.json, whose presence says the
        slice is complete."""
        for table, select in side_tables.items():
            con.execute(f"COPY ({select}) TO '{slice_dir / f'side.{table}.parquet'}' (FORMAT parquet)")
        (slice_dir / "stats.json").write_text(json.dumps(stats))


def sql_path(path: Path) -> str:
    """A path as a SQL string literal's content."""
    return str(path).replace("'", "''")


def write_parquet(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> None:
    con.execute(f"COPY ({select_sql}) TO '{sql_path(path)}' ({PARQUET_OPTIONS})")


WRITER_WAIT_S = 3600.0  # a run outwaits a notebook or DuckDB CLI holding its file for up to an hour
NOTE_EVERY_S = 30.0
# DuckDB weighs each compression method on every string column it writes. Plain dictionary compression is the
# costly one to weigh, and never pays on a column of unique strings, which every stage table has: its `id`.
# Without it, writing a stage table takes ~0.6 of the CPU time (benchmarks.engine_overhead's tables, 1M rows), and
# the file grows by under a tenth: low-cardinality strings still get DuckDB's dictionary+FSST compression (dict_fsst).
NOT_TRIED_ON_WRITE = "dictionary"


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB file's main header


def set_aside_if_never_written(path: Path, error: duckdb.IOException) -> bool:
    """A run killed while DuckDB was creating its file leaves one without a header (seen: 0 bytes), which DuckDB
    refuses to open ever after. Such a file holds no table, so the run moves it aside (never deletes it) and starts
    the file anew; its finished stages come back from the stage store. A file with a header is a database, however
    damaged, and is left for the user."""
    if "not a valid DuckDB database" not in str(error) or not path.is_file():
        return False
    with path.open("rb") as f:
        if f.read(12)[8:12] == DUCKDB_MAGIC:
            return False
    aside = path.with_name(f"{path.name}.unwritten-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, aside)
    log.warning("%s was left without a DuckDB header (a run killed while creating it, %d bytes): moved aside to %s "
                "and started anew", path, aside.stat().st_size, aside.name)
    return True


def connect_waiting(path: Path, read_only: bool = False, wait_s: float = WRITER_WAIT_S) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting while another process (a run, inspect, a notebook, the CLI) holds it. DuckDB
    lets one process write a file, or any number read it: a reader left open blocks the run, so the wait is
    logged, naming the file, at once and every NOTE_EVERY_S, never silent."""
    started = time.monotonic()
    noted = None
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            waited = time.monotonic() - started
            if not read_only and set_aside_if_never_written(path, e):
                continue
            if "lock" not in str(e).lower():
                raise
            if waited > wait_s:
                raise duckdb.IOException(f"gave up after waiting {waited:.0f} s for {path}, held by another "
                                         f"process: {str(e).splitlines()[0]}") from e
            if noted is None or waited - noted >= NOTE_EVERY_S:
                noted = waited
                log.warning("waiting for %s (%.0f s so far, up to %.0f s): another process holds it, e.g. a notebook "
                            "or the DuckDB CLI; close it, or read with `python -m engine.inspect`, which lets go "
                            "after each query", path, waited, wait_s)
            time.sleep(0.2)
        else:
            if not read_only:
                con.execute(f"SET disabled_compression_methods = '{NOT_TRIED_ON_WRITE}'")
            return con


@contextmanager
def open_db(path: Path, read_only: bool = False, wait_s: float = WRITER_WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_waiting(path, read_only, wait_s)
    try:
        yield con
    finally:
        con.close()


class RunDB:
    """The run's own DuckDB file. Writes go through `connect()`, which opens the file for the one write, unless
    the run holds a connection (`hold`, while it runs stages that only work in DuckDB): reopening costs a
    checkpoint and cold buffers per stage, and a SQL stage is over in moments, whereas a Python stage that waits
    on models runs with the file closed (`release`) so `engine.inspect` or the DuckDB CLI can read meanwhile."""

    def __init__(self, path: Path):
        self.path = path
        self._held: duckdb.DuckDBPyConnection | None = None
        with self.connect() as con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} (stage VARCHAR, iteration INTEGER, "
                "fingerprint VARCHAR, stats JSON)"
            )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
            return
        with open_db(self.path) as con:
            yield con

    def hold(self) -> None:
        if self._held is None:
            self._held = connect_waiting(self.path)

    def release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @staticmethod
    def connect_readonly(path: Path):
        return open_db(path, read_only=True)

    @staticmethod
    def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main'"
        ).fetchall()
        return {r[0] for r in rows}

    @staticmethod
    def slice_record(con: duckdb.DuckDBPyConnection, stage: str, iteration: int | None) -> tuple[str, dict] | None:
        row = con.execute(
            f"SELECT fingerprint, stats FROM {META_TABLE} WHERE stage = ? AND iteration IS NOT DISTINCT FROM ?",
            [stage, iteration],
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    @staticmethod
    def link(con: duckdb.DuckDBPyConnection, table: str, parquet: Path) -> None:
        """Make `table` a view of a stored slice's Parquet file rather than a copy of it: a run in a fresh directory
        reuses a stage in moments. The store never changes a slice under its fingerprint, so the view stays true;
        the run directory then needs the stage store to read it (it is not a copy to take elsewhere). Views are
        listed by information_schema.tables and SHOW TABLES, not by duckdb_tables()."""
        con.execute(f"CREATE VIEW {quote(table)} AS SELECT * FROM read_parquet('{sql_path(parquet)}')")

    @staticmethod
    def drop_slice(con: duckdb.DuckDBPyConnection, stage: str, iteration: int | None) -> None:
        existing = dict(con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main'").fetchall())
        for table in (stage, f"{stage}__rejected"):
            if table not in existing:
                continue
            if iteration is None:
                con.execute(f"DROP {'VIEW' if existing[table] == 'VIEW' else 'TABLE'} {quote(table)}")
            else:
                con.execute(f"DELETE FROM {quote(table)} WHERE iteration = ?", [iteration])
        if FILES_TABLE in existing:
            con.execute(f"DELETE FROM {FILES_TABLE} WHERE stage = ? AND iteration IS NOT DISTINCT FROM ?",
                        [stage, iteration])
        con.execute(
            f"DELETE FROM {META_TABLE} WHERE stage = ? AND iteration IS NOT DISTINCT FROM ?", [stage, iteration]
        )

    @staticmethod
    def drop_iterations_from(con: duckdb.DuckDBPyConnection, stage: str, first: int) -> None:
        """Forget iterations >= first (a rerun that stopped earlier than the run before it)."""
        existing = RunDB.tables(con)
        for table in (stage, f"{stage}__rejected"):
            if table in existing:
                con.execute(f"DELETE FROM {quote(table)} WHERE iteration >= ?", [first])
        if FILES_TABLE in existing:
            con.execute(f"DELETE FROM {FILES_TABLE} WHERE stage = ? AND iteration >= ?", [stage, first])
        con.execute(f"DELETE FROM {META_TABLE} WHERE stage = ? AND iteration >= ?", [stage, first])

    @staticmethod
    def append(con: duckdb.DuckDBPyConnection, table: str, select_sql: str) -> None:
        """Create `table` from a SELECT, or add its rows to the existing table, widening it by new columns."""
        if table not in RunDB.tables(con):
            con.execute(f"CREATE TABLE {quote(table)} AS {select_sql}")
            return
        new_cols = con.execute(f"DESCRIBE {select_sql}").fetchall()
        have = {r[0] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
        for name, col_type, *_ in new_cols:
            if name not in have:
                con.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {col_type}")
        con.execute(f"INSERT INTO {quote(table)} BY NAME {select_sql}")

    @staticmethod
    def record(con: duckdb.DuckDBPyConnection, stage: str, iteration: int | None, fingerprint: str,
               stats: dict) -> None:
        con.execute(
            f"DELETE FROM {META_TABLE} WHERE stage = ? AND iteration IS NOT DISTINCT FROM ?", [stage, iteration]
        )
        con.execute(f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?)", [stage, iteration, fingerprint, json.dumps(stats)])
