"""The response cache in PostgreSQL (`llm.cache_db`), for machines that share no filesystem but a database.

Same contract as the SQLite cache (engine.llm.cache): a final response is stored the moment it arrives, a
transient failure never (unlike the SQLite cache it keeps no `failures` list, so a heal run's summary cannot
count what it healed); keys are the same, so a cache can be moved between the two with a plain copy of the rows. One
connection per process and database, shared by every model client of that process (a run makes one client per
stage and role), so a long run holds one connection, not hundreds. Needs psycopg (extra `scale`).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from engine.llm.cache import CacheMode
from engine.llm.types import FINAL_FAILURES, LLMConfigError, Response

TABLE = "execfeed_llm_responses"
# conninfo -> (connection, the lock its users take: one connection serves every client of every thread)
_connections: dict[str, tuple[Any, threading.Lock]] = {}
_connections_lock = threading.Lock()


def _connection(conninfo: str) -> tuple[Any, threading.Lock]:
    with _connections_lock:
        con, lock = _connections.get(conninfo, (None, threading.Lock()))
        if con is None or con.closed:
            try:
                import psycopg
            except ImportError as e:
                raise LLMConfigError("llm.cache_db needs psycopg: pip install 'execfeed[scale]'") from e
            con = psycopg.connect(conninfo, autocommit=True)
            # two processes creating the table at once: one waits on the lock rather than failing
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
                con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, response TEXT NOT NULL, "
                            "truth TEXT, created DOUBLE PRECISION NOT NULL)")
            _connections[conninfo] = (con, lock)
        return con, lock


class PgResponseCache:
    def __init__(self, conninfo: str, mode: CacheMode):
        self.mode = mode
        self._con, self._lock = (None, threading.Lock()) if mode == "off" else _connection(conninfo)

    def get_many(self, keys: list[str]) -> dict[str, tuple[Response, Any]]:
        """Cached (response, sim truth) by key, for the keys found."""
        if self._con is None or not keys:
            return {}
        with self._lock:
            rows = self._con.execute(f"SELECT key, response, truth FROM {TABLE} WHERE key = ANY(%s)",
                                     (list(dict.fromkeys(keys)),)).fetchall()
        return {key: (Response.from_dict(json.loads(response)), json.loads(truth)) for key, response, truth in rows}

    def put(self, key: str, response: Response, truth: Any) -> None:
        if self._con is None or self.mode != "readwrite" or not (response.ok or response.reason in FINAL_FAILURES):
            return  # a transient failure is never stored: the next run tries again
        with self._lock:
            self._con.execute(
                f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                "response = excluded.response, truth = excluded.truth, created = excluded.created",
                (key, json.dumps(response.to_dict()), json.dumps(truth), time.time()))

    def close(self) -> None:
        self._con = None  # the connection is the process's, shared with other clients
