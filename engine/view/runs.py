"""The runs a viewer serves and how it reads them without getting in their way.

A run holds `run.duckdb` for writing while a SQL stage runs (engine.store.RunDB), and DuckDB allows no reader
beside a writer, nor a writer beside a reader. So the viewer opens a read-only connection per request, for as short
as it can: it waits a moment for the file, then says the run is writing; it interrupts a query that runs long; and it
closes the file before it renders, so the run never waits on a page for more than a moment."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from engine.graph import resolve_path
from engine.ledger_journal import JOURNAL
from engine.store import connect_waiting

LOCK_WAIT_S = 2.0  # a SQL stage holds the file for moments; longer, and the page says "refresh"
QUERY_S = 5.0  # the run waits for the viewer's reads to end before it can write


class RunBusy(Exception):
    """The run holds run.duckdb for a write (or has not made it yet)."""


@contextmanager
def read_only(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not db.is_file():
        raise RunBusy(f"{db} does not exist yet")
    try:
        con = connect_waiting(db, read_only=True, wait_s=LOCK_WAIT_S)
    except duckdb.IOException as e:
        raise RunBusy(str(e).splitlines()[0]) from e
    timer = threading.Timer(QUERY_S, con.interrupt)
    timer.start()
    try:
        yield con
    finally:
        timer.cancel()
        con.close()


@dataclass(frozen=True)
class Run:
    label: str  # the job's directory name in a sweep, "" for a single run
    dir: Path

    @property
    def db(self) -> Path:
        return self.dir / "run.duckdb"

    def summary(self) -> dict | None:
        """summary.json, written at the end of a run; None before (or while it is being written)."""
        try:
            return json.loads((self.dir / "summary.json").read_text())
        except (OSError, ValueError):
            return None

    def in_progress(self) -> bool:
        """No summary yet, or a run started in this directory after the summary was written: each run empties its
        model-call journal as it starts (not run.duckdb's time: a reader's checkpoint or a user's table changes
        it). A killed run looks the same: the page says so."""
        summary_file = self.dir / "summary.json"
        if not summary_file.is_file():
            return True
        journal = self.dir / JOURNAL
        return journal.is_file() and journal.stat().st_mtime > summary_file.stat().st_mtime

    def config(self) -> dict:
        """The composed config Hydra saved (interpolations unresolved); {} for a run made without Hydra."""
        try:
            return yaml.safe_load((self.dir / ".hydra" / "config.yaml").read_text()) or {}
        except (OSError, yaml.YAMLError):
            return {}

    def plots(self) -> list[str]:
        return sorted(p.name for p in (self.dir / "plots").glob("*.png"))

    def response_cache(self, cache_dir: Path | None) -> Path | None:
        """The response cache holding the replies of this run's model calls: under `cache_dir` if given, else under
        the run's configured one (its environment variable as seen by the viewer)."""
        if cache_dir is None:
            configured = self.config().get("cache_dir")
            if not isinstance(configured, str):
                return None
            try:
                resolved = OmegaConf.to_container(OmegaConf.create({"c": configured}), resolve=True)["c"]
            except OmegaConfBaseException:  # one the viewer cannot resolve: no replies, the calls still show
                return None
            cache_dir = resolve_path(str(resolved))
        path = cache_dir / "llm_responses.sqlite"
        return path if path.is_file() else None


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def find_runs(root: Path) -> list[Run]:
    """A run directory, or a sweep directory whose job directories hold runs."""
    if (root / "run.duckdb").is_file() or (root / "summary.json").is_file():
        return [Run("", root)]
    jobs = {p.parent for pattern in ("*/run.duckdb", "*/summary.json") for p in root.glob(pattern)}
    return [Run(d.name, d) for d in sorted(jobs, key=lambda d: _natural(d.name))]


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(config, dict):
        return {prefix: config}
    out: dict[str, Any] = {}
    for key, value in config.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def config_differences(runs: list[Run]) -> dict[str, list[Any]]:
    """The config keys whose values are not the same in every run, with each run's value."""
    flat = [flatten(run.config()) for run in runs]
    keys = sorted(set().union(*flat)) if flat else []
    differences = {}
    for key in keys:
        values = [f.get(key) for f in flat]
        if len({json.dumps(v, default=str) for v in values}) > 1:
            differences[key] = values
    return differences
