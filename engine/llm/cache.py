"""The persistent response cache: a SQLite file in WAL mode shared by runs and by parallel sweep processes.

A response is stored the moment it arrives, so a run killed mid-stage pays again only for what was still in
flight. Only successful responses are stored: a failure is retried by the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

from engine.llm.types import Response
from engine.sqlite_wal import connect_wal

CacheMode = Literal["readwrite", "readonly", "off"]
KEY_VERSION = 1  # bump when the key's parts change meaning, so old entries are never misread


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of what determines a reply (backend, model, messages, sampling, schema, sample index)."""
    canonical = json.dumps({"v": KEY_VERSION, **parts}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path, mode: CacheMode):
        self.mode = mode
        self._db: sqlite3.Connection | None = None
        if mode != "off":
            # autocommit: each put its own short transaction (no writer holds the lock)
            self._db = connect_wal(path, ["CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY,"
                                          " response TEXT NOT NULL, truth TEXT, created REAL NOT NULL)"])

    def get_many(self, keys: list[str]) -> dict[str, tuple[Response, Any]]:
        """Cached (response, sim truth) by key, for the keys found."""
        if self._db is None or not keys:
            return {}
        found: dict[str, tuple[Response, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, response, truth FROM responses WHERE key IN ({marks})", chunk)
            for key, response, truth in rows:
                found[key] = (Response.from_dict(json.loads(response)), json.loads(truth))
        return found

    def put(self, key: str, response: Response, truth: Any) -> None:
        if self._db is None or self.mode != "readwrite" or not response.ok:
            return  # a failure is never stored: the next run tries again
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
            (key, json.dumps(response.to_dict()), json.dumps(truth), time.time()),
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
