"""The model calls of the running stage, kept on disk as well as in memory until they reach run.duckdb.

The ledger goes to `llm_calls` when a stage ends. A run killed mid-stage (SIGKILL, a lost machine) would take the
calls of that stage with it, though they were paid for: their replies are in the response cache, so the next run
does not pay again, but the account would be short. So every ledger row is also appended to a journal file in the
run directory as it is made, the journal is emptied once its rows are in run.duckdb, and a run that finds a
journal left behind imports it first.

An attempt is journaled once more just before it is sent (a "sending" line, not a ledger row): an attempt whose
outcome never reached the journal was in flight when the run was killed, and becomes a ledger row saying so
("sent, outcome unknown", its cost unknown), since the endpoint may have answered and billed it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import orjson

from engine.llm.ledger import OUTCOME_UNKNOWN

log = logging.getLogger("engine")

JOURNAL = "llm_calls.journal.jsonl"
# one attempt is one row: these columns tell a journal row already written to llm_calls (killed in between)
ROW_KEY = ("stage", "key", "sample_index", "attempt", "ts")
SENDING = "sending"  # marks a journal line written before an attempt was sent
ATTEMPT = ("stage", "key", "sample_index", "attempt")


class JournaledLedger(list):
    """A list of ledger rows (what the LLM layer appends to) that also writes each row to the journal."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def append(self, row: dict) -> None:
        super().append(row)
        self._write(row)

    def sending(self, row: dict) -> None:
        """Note an attempt about to be sent; its outcome row follows when it is known."""
        self._write({**row, SENDING: True})

    def _write(self, row: dict) -> None:
        # flushed per row: the OS holds it through a killed process; no fsync, as a lost machine loses the run dir
        self._file.write(orjson.dumps(row, default=str).decode() + "\n")
        self._file.flush()

    def extend(self, rows) -> None:
        for row in rows:
            self.append(row)

    def clear(self) -> None:
        """Forget the rows: call once they are in run.duckdb."""
        super().clear()
        self._file.truncate(0)

    def close(self) -> None:
        self._file.close()


def leftover_rows(path: Path) -> list[dict]:
    """The rows in the journal at `path`, such as those of an earlier run killed before writing them."""
    if not path.is_file():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a process killed mid-write
            log.warning("%s:%d: an unfinished ledger row is skipped", path, n)
    done = {tuple(r.get(k) for k in ATTEMPT) for r in rows if not r.get(SENDING)}
    return [
        {**{k: v for k, v in r.items() if k != SENDING}, "ok": False, "error": OUTCOME_UNKNOWN, "cost_known": False}
        if r.get(SENDING) else r
        for r in rows
        if not r.get(SENDING) or tuple(r.get(k) for k in ATTEMPT) not in done
    ]


def not_yet_written(con: duckdb.DuckDBPyConnection, rows: list[dict], tables: set[str]) -> list[dict]:
    """The rows not in `llm_calls` already (a run killed between writing them and emptying its journal)."""
    if "llm_calls" not in tables or not rows:
        return rows
    cols = ", ".join(ROW_KEY)
    written = {tuple(str(v) for v in r) for r in con.execute(f"SELECT {cols} FROM llm_calls").fetchall()}
    return [r for r in rows if tuple(str(r.get(k)) for k in ROW_KEY) not in written]
