"""Limits that hold across processes: Hydra sweep jobs calling one endpoint share its in-flight, request and
token budgets. Both live in a directory keyed by the endpoint (`limits_dir`), on the local filesystem.

- In flight: slot i is an exclusive `flock` on `slot-i.lock`; a request holds one slot while it is sent.
  The kernel drops the lock when a process dies, so a killed job never leaks a slot.
- Requests and tokens per minute: token buckets in a SQLite file, refilled continuously at limit/60 per
  second with a burst of one minute's budget, updated in one IMMEDIATE transaction per reservation.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from engine.sqlite_wal import connect_wal


def limits_dir(root: Path, endpoint: str) -> Path:
    """Where the shared limits of one endpoint live under `root`."""
    return root / "limits" / hashlib.sha256(endpoint.encode()).hexdigest()[:16]


class SharedSlots:
    """At most `n` requests in flight across every process using `directory`.

    A process that asks for more than `n` at once waits in its own semaphore first, so it only polls the lock
    files when another process holds slots. Processes configured with different `n` for one endpoint share
    slot files, so together they stay within the largest `n`.
    """

    def __init__(self, directory: Path, n: int):
        directory.mkdir(parents=True, exist_ok=True)
        self.n = n
        self._directory = directory
        self._fds: dict[int, int] = {}
        self._free = deque(range(n))  # slots this process does not hold; the last released is tried first

    def _fd(self, i: int) -> int:
        if i not in self._fds:
            self._fds[i] = os.open(self._directory / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        return self._fds[i]

    def _try_take(self) -> int | None:
        for _ in range(len(self._free)):
            i = self._free.popleft()
            try:
                fcntl.flock(self._fd(i), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._free.append(i)
                continue
            return i
        return None

    def slot(self) -> Slot:
        """`async with slots.slot():` holds one slot while the block runs."""
        return Slot(self)

    async def _take(self) -> int:
        delay = 0.002
        while (i := self._try_take()) is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        return i

    def _give_back(self, i: int) -> None:
        fcntl.flock(self._fds[i], fcntl.LOCK_UN)
        self._free.appendleft(i)


class Slot:
    """One slot of a SharedSlots, held inside `async with`. A plain class rather than an asynccontextmanager: it is
    entered once per request, and the generator machinery cost more than the two flock calls."""

    __slots__ = ("_slots", "_i")

    def __init__(self, slots: SharedSlots):
        self._slots = slots
        self._i: int | None = None

    async def __aenter__(self) -> None:
        self._i = await self._slots._take()

    async def __aexit__(self, *exc: object) -> None:
        self._slots._give_back(self._i)


_slots_by_dir: dict[tuple[Path, int], SharedSlots] = {}


def shared_slots(directory: Path, n: int) -> SharedSlots:
    """One SharedSlots per (endpoint, n) in a process: two roles on one endpoint share its slots, and
    repeated `make_llm` calls do not open the lock files again."""
    key = (directory.resolve(), n)
    if key not in _slots_by_dir:
        _slots_by_dir[key] = SharedSlots(directory, n)
    return _slots_by_dir[key]


class SharedRateLimit:
    """Requests-per-minute and tokens-per-minute buckets shared through a SQLite file."""

    def __init__(self, path: Path, *, rpm: int | None, tpm: int | None, clock: Callable[[], float] = time.time):
        self._limits = {name: limit for name, limit in (("requests", rpm), ("tokens", tpm)) if limit}
        self._clock = clock
        self._db = connect_wal(path, ["CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, level REAL,"
                                      " updated REAL)"], synchronous="FULL")

    def reserve(self, tokens: int) -> float:
        """Take one request and `tokens` tokens if both buckets hold enough and return 0; otherwise take
        nothing and return the seconds until they will."""
        need = {"requests": 1, "tokens": tokens}
        now = self._clock()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            levels = {}
            for name, limit in self._limits.items():
                row = self._db.execute("SELECT level, updated FROM buckets WHERE name = ?", (name,)).fetchone()
                level, updated = row if row else (float(limit), now)
                levels[name] = min(float(limit), level + max(0.0, now - updated) * limit / 60)
            # a request bigger than a whole minute's budget waits for a full bucket, not forever
            short = {name: min(need[name], limit) - levels[name] for name, limit in self._limits.items()}
            wait = max((s * 60 / self._limits[name] for name, s in short.items() if s > 0), default=0.0)
            for name, level in levels.items():
                level -= 0 if wait else min(need[name], self._limits[name])
                self._db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (name, level, now))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return wait

    async def acquire(self, tokens: int) -> None:
        while (wait := self.reserve(tokens)) > 0:
            await asyncio.sleep(wait)
