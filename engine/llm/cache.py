"""The persistent response cache: a SQLite file in WAL mode shared by runs and by parallel sweep processes.

A response is stored the moment it arrives, so a run killed mid-stage pays again only for what was still in
flight. Only final answers are stored (successful, or refused after its one retry): a transient failure is
retried by the next run. Its key is noted in `failures` until then, so the run that retries it can say how many
it retried and how many healed.

Processes sharing the cache (sweep jobs, two runs started together) pay for a request once: a client claims the
keys it is about to send (`leases`), and a key another live client holds is awaited from the cache instead. A
client proves it is alive by its heartbeat in `owners`; the claims of one that stopped beating lapse after
LEASE_STALE_S (at once for a process of this host that no longer exists: a killed run resumed at once does not
wait), and its keys are claimed by whoever still waits for them.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

import orjson

from engine.llm.types import FINAL_FAILURES, Response
from engine.sqlite_wal import connect_wal

CacheMode = Literal["readwrite", "readonly", "off"]
KEY_VERSION = 1  # bump when the key's parts change meaning, so old entries are never misread
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, truth TEXT,"
    " created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, error TEXT, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS owners (owner TEXT PRIMARY KEY, beat REAL NOT NULL)",
]
LEASE_STALE_S = 20.0  # an owner silent this long is taken as dead; it beats every LEASE_STALE_S / 4


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of what determines a reply (backend, model, messages, sampling, schema, sample index)."""
    canonical = json.dumps({"v": KEY_VERSION, **parts}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dumps(value: Any) -> str:
    """JSON text of a response or a sim truth: orjson (several times faster), json for what orjson refuses."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def lease_owner(client: object) -> str:
    """Who claims keys: host, process and client, so a claim of a process that died here is seen at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(client)}"


def _gone_from_this_host(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's
        return False
    return False


class ResponseCache:
    def __init__(self, path: Path, mode: CacheMode):
        self.mode = mode
        self._db: sqlite3.Connection | None = None
        if mode != "off":
            # autocommit: each put its own short transaction (no writer holds the lock)
            self._db = connect_wal(path, SCHEMA)

    def _select(self, sql: str, keys: list[str]) -> list[tuple]:
        """`sql` (with `{marks}` for the keys) over `keys`, in chunks under SQLite's bound-parameter limit."""
        unique = list(dict.fromkeys(keys))
        rows: list[tuple] = []
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows.extend(self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    def get_many(self, keys: list[str]) -> dict[str, tuple[Response, Any]]:
        """Cached (response, sim truth) by key, for the keys found."""
        if self._db is None or not keys:
            return {}
        rows = self._select("SELECT key, response, truth FROM responses WHERE key IN ({marks})", keys)
        return {key: (Response.from_dict(json.loads(response)), json.loads(truth)) for key, response, truth in rows}

    def put(self, key: str, response: Response, truth: Any) -> None:
        if self._db is None or self.mode != "readwrite" or not (response.ok or response.reason in FINAL_FAILURES):
            return  # a transient failure is never stored: the next run tries again
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
            (key, json.dumps(response.to_dict()), json.dumps(truth), time.time()),
        )
        self._db.execute("DELETE FROM failures WHERE key = ?", (key,))

    def write_many(self, puts: list[tuple[str, Response, Any]], releases: list[tuple[str, str]]) -> None:
        """Answers stored (as `put`) and claims given up (key, owner), in one transaction: an answer is in the
        cache before its claim goes, as with put then release, at a fraction of their cost one by one."""
        if self._db is None or self.mode != "readwrite":
            return
        now = time.time()
        stored = [(key, _dumps(response.to_dict()), _dumps(truth), now) for key, response, truth in puts
                  if response.ok or response.reason in FINAL_FAILURES]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", stored)
            self._db.executemany("DELETE FROM failures WHERE key = ?", [(key,) for key, *_ in stored])
            self._db.executemany("DELETE FROM leases WHERE key = ? AND owner = ?", releases)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def mark_failed(self, key: str, error: str | None) -> None:
        """Note a request that failed transiently (retries exhausted), for the run that retries it."""
        if self._db is not None and self.mode == "readwrite":
            self._db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (key, error, time.time()))

    def failed_keys(self, keys: list[str]) -> set[str]:
        """Which of `keys` failed in an earlier attempt and have no answer yet."""
        if self._db is None or not keys:
            return set()
        return {k for (k,) in self._select("SELECT key FROM failures WHERE key IN ({marks})", keys)}

    # ------------------------------------------------------------------------------------------------ leases

    def heartbeat(self, owner: str, now: float | None = None) -> None:
        self._db.execute("INSERT OR REPLACE INTO owners VALUES (?, ?)", (owner, time.time() if now is None else now))

    def claim(self, keys: list[str], owner: str, now: float | None = None) -> set[str]:
        """Claim `keys` for `owner`, who is about to send them; the ones now held by it. Keys held by an owner
        whose heartbeat stopped are taken over."""
        if self._db is None or self.mode != "readwrite" or not keys:
            return set(keys)  # nothing shared to coordinate through
        now = time.time() if now is None else now
        self.heartbeat(owner, now)
        self._db.execute("BEGIN IMMEDIATE")  # one writer at a time: two claimants never both win a key
        try:
            stale = [o for o, beat in self._db.execute("SELECT owner, beat FROM owners")
                     if beat < now - LEASE_STALE_S or _gone_from_this_host(o)]
            self._db.executemany("DELETE FROM owners WHERE owner = ?", [(dead,) for dead in stale])
            self._db.execute("DELETE FROM leases WHERE owner NOT IN (SELECT owner FROM owners)")
            self._db.executemany("INSERT OR IGNORE INTO leases VALUES (?, ?)", [(k, owner) for k in keys])
            held = {k for k, o in self._select("SELECT key, owner FROM leases WHERE key IN ({marks})", keys)
                    if o == owner}
        finally:
            self._db.execute("COMMIT")
        return held

    def release(self, keys: list[str], owner: str) -> None:
        """Give up claims: the request was answered (its answer is in `responses`) or failed."""
        if self._db is not None and self.mode == "readwrite" and keys:
            self._db.executemany("DELETE FROM leases WHERE key = ? AND owner = ?", [(k, owner) for k in keys])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
