"""Processes that open one fresh SQLite file at the same moment (two Ray actors starting their first shards)
all get a working WAL connection: without the retry about a third of such races failed with "database is
locked"."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from engine.sqlite_wal import connect_wal

SCHEMA = ["CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY)"]


def open_and_write(path: str, barrier, k: int) -> str | None:
    barrier.wait()
    try:
        db = connect_wal(Path(path), SCHEMA)
        db.execute("INSERT INTO t VALUES (?)", (k,))
        db.close()
    except Exception as e:  # returned, not raised: the parent reports every failure
        return repr(e)
    return None


def test_simultaneous_openers_of_a_fresh_file_all_succeed(tmp_path):
    context = multiprocessing.get_context("fork")
    workers = 4
    with context.Manager() as manager, context.Pool(workers) as pool:
        for trial in range(12):
            path = tmp_path / f"{trial}.sqlite"
            barrier = manager.Barrier(workers)
            errors = [e for e in pool.starmap(open_and_write, [(str(path), barrier, k) for k in range(workers)]) if e]
            assert errors == [], f"trial {trial}: {errors}"
            db = connect_wal(path, SCHEMA)
            assert db.execute("SELECT count(*) FROM t").fetchone()[0] == workers
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_error_other_than_a_lock_is_raised_at_once_and_names_the_file(tmp_path):
    path = tmp_path / "not_a_db.sqlite"
    path.write_bytes(b"this is not a database file at all, just text" * 10)
    try:
        connect_wal(path, SCHEMA, timeout_s=30)
    except Exception as e:
        assert str(path) in str(e) and "locked" not in str(e)
    else:
        raise AssertionError("a file that is not a database opened")
