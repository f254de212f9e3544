"""Shared fixtures: run configs built in code, run into temporary directories with real DuckDB files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def make_config(tmp_path: Path):
    """A run config (plain dict) with its own stage store under tmp_path."""

    def make(stages: dict, **extra) -> dict:
        return {"name": "t", "seed": 0, "cache_dir": str(tmp_path / "cache"), "progress": False,
                "llm": {}, "roles": {}, "sandbox": {}, "stages": stages, **extra}

    return make


@pytest.fixture
def numbers_file(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.jsonl"
    path.write_text("".join(json.dumps({"n": n, "label": f"n{n}"}) + "\n" for n in range(10)))
    return path


def table(run_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def compose_and_run(name: str, *overrides: str, run_dir: Path, cache_dir: Path) -> dict:
    """Compose conf/experiment/NAME.yaml with overrides, as `python -m engine` would, and run it into run_dir with
    its own cache. Usable from fixtures of any scope."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.config import PROJECT_ROOT
    from engine.runner import run

    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={name}", *overrides])
    cfg = OmegaConf.to_container(cfg, resolve=True)
    cfg["cache_dir"], cfg["progress"] = str(cache_dir), False
    return run(cfg, run_dir)


@pytest.fixture
def run_experiment(tmp_path: Path):
    """compose_and_run into tmp_path/run with a private cache. Returns (summary, run_dir)."""

    def go(name: str, *overrides: str, run_dir: Path | None = None, cache_dir: Path | None = None):
        run_dir = run_dir or tmp_path / "run"
        return compose_and_run(name, *overrides, run_dir=run_dir, cache_dir=cache_dir or tmp_path / "cache"), run_dir

    return go


def lineage_problems(run_dir: Path) -> dict[str, tuple[int, int]]:
    """{table: (rows listing themselves as a parent, parent ids found in no table)} for every stage table of a
    run with a problem; empty when lineage is closed: every row traces back to its seed."""
    tables = [t for (t,) in table(run_dir, "select distinct table_name from information_schema.columns "
                                           "where column_name = 'parent_ids' and table_schema = 'main'")]
    ids = " union all ".join(f"select id from {t}" for t in tables)
    problems = {}
    for t in tables:
        [(own,)] = table(run_dir, f"select count(*) from {t} where list_contains(parent_ids, id)")
        [(orphans,)] = table(run_dir, f"select count(*) from (select unnest(parent_ids) as p from {t}) "
                                      f"where p not in ({ids})")
        if own or orphans:
            problems[t] = (own, orphans)
    return problems
