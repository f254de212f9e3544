"""Persistent outcome cache: SQLite in WAL mode, one row per (source, entry, args, limits) key.

Safe with several processes (sweep jobs) on one file: SQLite serialises writers, WAL lets readers run
alongside them, and rows are only ever inserted (`insert or ignore`), never changed.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from engine.sandbox.channel import loads_plain
from engine.sandbox.outcome import Job, Outcome, ProgramJob
from engine.sqlite_wal import connect_wal

# Bump when the policy, guards or value conversion change what a job returns.
CACHE_FORMAT = 1
LOOKUP_BATCH = 500


def outcome_key(job: Job | ProgramJob, limits: tuple) -> str:
    """Key of a job's outcome; `limits` holds every setting that can change it (time, memory, imports). A
    program's expected output is not in it: outputs are judged after the cache (judge.py)."""
    if isinstance(job, ProgramJob):
        fields = ("program", job.source, job.stdin, job.time_limit_s, job.memory_mb)
    else:
        fields = (job.source, job.entry, job.args)
    material = pickle.dumps((CACHE_FORMAT, *fields, limits), protocol=4)
    return hashlib.sha256(material).hexdigest()


class OutcomeCache:
    def __init__(self, path: str | Path, readonly: bool = False):
        self.readonly = readonly
        self.lock = threading.Lock()
        path = Path(path)
        if readonly and not path.exists():
            self.connection = None
            return
        if readonly:
            self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60, check_same_thread=False,
                                              isolation_level=None)
        else:
            self.connection = connect_wal(path, ["create table if not exists outcomes (key text primary key, "
                                                 "status text not null, value blob, message text not null)"])

    def get_many(self, keys: list[str]) -> dict[str, Outcome]:
        if self.connection is None:
            return {}
        found = {}
        with self.lock:
            for start in range(0, len(keys), LOOKUP_BATCH):
                batch = keys[start:start + LOOKUP_BATCH]
                try:
                    placeholders = ",".join("?" * len(batch))
                    rows = self.connection.execute(
                        f"select key, status, value, message from outcomes where key in ({placeholders})",
                        batch).fetchall()
                except sqlite3.OperationalError as e:
                    if "no such table" in str(e):  # a read-only cache that was never written
                        return {}
                    raise
                for key, status, value, message in rows:
                    found[key] = Outcome(status, loads_plain(value), message)
        return found

    def put_many(self, items: Iterable[tuple[str, Outcome]]) -> None:
        if self.readonly or self.connection is None:
            return
        rows = [(key, o.status, pickle.dumps(o.value, protocol=4), o.message) for key, o in items]
        if not rows:
            return
        with self.lock:
            self.connection.execute("begin immediate")
            try:
                self.connection.executemany("insert or ignore into outcomes values (?, ?, ?, ?)", rows)
            except BaseException:
                self.connection.execute("rollback")  # an open write transaction would lock out every process
                raise
            self.connection.execute("commit")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
