"""Open a SQLite file shared by processes (response cache, sandbox cache, rate buckets) in WAL mode.

Two processes that open a fresh file at the same moment both try to switch it to WAL; the switch upgrades a
shared lock to an exclusive one, SQLite sees a possible deadlock and fails one of them at once with "database is
locked" instead of calling the busy handler (seen when two Ray actors start their first shards together). So the
switch and the schema are retried here until `timeout_s`.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path


def connect_wal(path: Path, schema: Sequence[str] = (), *, timeout_s: float = 60.0,
                synchronous: str = "NORMAL") -> sqlite3.Connection:
    """An autocommit connection to `path` in WAL mode with `schema` (idempotent statements) applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous}")  # WAL + NORMAL survives a killed process
            for statement in schema:
                db.execute(statement)
            return db
        except sqlite3.DatabaseError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                db.close()
                raise type(e)(f"{path}: {e}") from e
            time.sleep(random.uniform(0.005, 0.05))
