"""The run's environment: what one run holds while it walks its graph (config, graph, run.duckdb, the stage
store, fingerprints, the model-call ledger, the sandbox), and the run's account of model calls in `llm_calls`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from engine.config import RunConfig, role_config
from engine.executor import LocalExecutor, RayExecutor
from engine.graph import Graph, Stage, resolve_path
from engine.ledger_journal import JOURNAL, leftover_rows, not_yet_written
from engine.rows import to_arrow
from engine.store import RunDB, StageStore

log = logging.getLogger("engine")


@dataclass
class RunEnv:
    config: RunConfig
    graph: Graph
    run_dir: Path
    rundb: RunDB
    store: StageStore | None
    fingerprints: dict[tuple[str, int | None], str] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)  # loop -> iterations run
    stage_stats: dict[str, dict] = field(default_factory=dict)
    ledger: list[dict] = field(default_factory=list)  # llm attempts not yet written to run.duckdb (journaled)
    truth: list[dict] = field(default_factory=list)
    ledger_all: list[dict] = field(default_factory=list)  # the run directory's whole account, read at the end
    answered: set[tuple[str, str]] = field(default_factory=set)  # (stage, key) already in llm_calls
    recovered_calls: int = 0  # ledger rows of a killed earlier run, imported from its journal
    sandbox: Any = None
    sandbox_totals: dict[str, int] = field(default_factory=dict)
    executor: LocalExecutor | RayExecutor = field(default_factory=LocalExecutor)  # runs sharded stages

    @property
    def cache_dir(self) -> Path:
        return resolve_path(self.config.cache_dir)

    def role_config(self, role: str) -> dict:
        return role_config(self.config, role)

    def make_llm(self, stage: str, role: str):
        from engine.llm import make_llm

        return make_llm(self.role_config(role), stage=stage, role=role, cache_dir=self.cache_dir,
                        ledger=self.ledger, truth=self.truth, answered=self.answered)

    def get_sandbox(self):
        if self.sandbox is None:
            from engine.sandbox import Sandbox

            settings = dict(self.config.sandbox)
            cache = settings.get("cache", "readwrite")
            self.sandbox = Sandbox(**settings, cache_path=None if cache == "off" else self.cache_dir / "sandbox.sqlite",
                                   progress=self.config.progress)
        return self.sandbox


def open_stage_store(config: RunConfig, cache_dir: Path):
    if not config.store.reuse:
        return None
    if config.store.kind == "ducklake":  # many writers on many machines (DuckLake, PostgreSQL catalog)
        from engine.store.ducklake import DuckLakeStore

        return DuckLakeStore(config.store, cache_dir)
    return StageStore(cache_dir / "stages")


def loop_init(stage: Stage, env: RunEnv) -> dict[str, str]:
    """A loop stage's `init` map (its `prev` inputs at iteration 0); empty outside loops."""
    return env.config.stages[stage.loop].loop.init if stage.loop else {}


# ---------------------------------------------------------------------------------------- the account


def ledger_table(rows: list[dict], what: str):
    return to_arrow([{k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows],
                    what)


def append_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Add ledger-like rows (dicts, nested values as JSON) to `table`, creating it on first use."""
    if rows:
        con.register("__arrow", ledger_table(rows, table))
        RunDB.append(con, table, "SELECT * FROM __arrow")
        con.unregister("__arrow")


def recover_journal(rundb: RunDB, run_dir: Path) -> int:
    """Import the ledger rows a killed earlier run left in its journal; their number."""
    rows = leftover_rows(run_dir / JOURNAL)
    if not rows:
        return 0
    with rundb.connect() as con:
        rows = not_yet_written(con, rows, RunDB.tables(con))
        append_rows(con, "llm_calls", rows)
    if rows:
        log.warning("%d model calls of an earlier run killed mid-stage were recovered into llm_calls", len(rows))
    return len(rows)


def answered_calls(rundb: RunDB) -> set[tuple[str, str]]:
    """(stage, key) of every request this run directory has an answer for: a resumed stage does not count them
    again when the cache answers them."""
    with rundb.connect() as con:
        if "llm_calls" not in RunDB.tables(con):
            return set()
        return set(con.execute("SELECT DISTINCT stage, key FROM llm_calls WHERE ok").fetchall())


def whole_account(rundb: RunDB) -> list[dict]:
    """Every model call of this run directory, from every process that worked on it (resumes, sweep jobs,
    shards): the summary's account is computed from this, never from one process's memory."""
    with rundb.connect() as con:
        if "llm_calls" not in RunDB.tables(con):
            return []
        return con.execute("SELECT * FROM llm_calls").to_arrow_table().to_pylist()


def flush_ledger(env: RunEnv) -> None:
    """Write model calls and simulated ground truth to run.duckdb as soon as a stage ends (or fails):
    a paid call is never lost from the accounts."""
    if not env.ledger and not env.truth:
        return
    with env.rundb.connect() as con:
        append_rows(con, "llm_calls", env.ledger)
        append_rows(con, "sim_truth", env.truth)
    env.ledger.clear()
    env.truth.clear()


def add_sandbox_stats(env: RunEnv, before: dict) -> None:
    if env.sandbox is None:
        return
    for k, v in env.sandbox.stats.items():
        if isinstance(v, (int, float)):
            env.sandbox_totals[k] = env.sandbox_totals.get(k, 0) + v - before.get(k, 0)
