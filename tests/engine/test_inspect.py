"""The inspect command lists tables, runs queries and traces a row back to its seed."""

from __future__ import annotations

import subprocess
import sys

from engine.config import PROJECT_ROOT
from engine.inspect import trace
from engine.runner import run
from engine.store import open_db
from tests.conftest import table

F = "tests.engine.fixture_stages"


def demo_run(make_config, numbers_file, tmp_path):
    pairs = tmp_path / "pairs.sql"
    pairs.write_text("select a.n + b.n as s, [a.id, b.id] as parent_ids from scaled a join scaled b "
                     "on a.n < b.n where a.n = 0")
    run(make_config({
        "numbers": {"source": str(numbers_file)},
        "scaled": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": 2}},
        "pairs": {"sql": str(pairs), "inputs": ["scaled"]},
    }), tmp_path / "run")
    return tmp_path / "run"


def inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.inspect", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60)


def test_lists_tables_with_row_counts(make_config, numbers_file, tmp_path):
    out = inspect(str(demo_run(make_config, numbers_file, tmp_path))).stdout
    lines = dict(line.split() for line in out.splitlines()[1:])
    assert lines == {"numbers": "10", "pairs": "9", "scaled": "10"}


def test_runs_a_query(make_config, numbers_file, tmp_path):
    out = inspect(str(demo_run(make_config, numbers_file, tmp_path)), "select max(s) as biggest from pairs").stdout
    assert "biggest" in out and "18" in out


def test_bad_query_is_a_clear_error(make_config, numbers_file, tmp_path):
    res = inspect(str(demo_run(make_config, numbers_file, tmp_path)), "select nope from pairs")
    assert res.returncode == 1 and "query failed" in res.stderr and "nope" in res.stderr


def test_trace_reaches_the_seed(make_config, numbers_file, tmp_path):
    run_dir = demo_run(make_config, numbers_file, tmp_path)
    pair_id = table(run_dir, "select id from pairs where s = 18")[0][0]
    with open_db(run_dir / "run.duckdb", read_only=True) as con:
        lines = trace(con, pair_id)
    tables = [(depth, t) for depth, t, _, _ in lines]
    assert tables == [(0, "pairs"), (1, "scaled"), (2, "numbers"), (1, "scaled"), (2, "numbers")]
    out = inspect(str(run_dir), "--trace", pair_id).stdout
    assert pair_id in out and '"label": "n9"' in out and '"label": "n0"' in out


def test_trace_of_unknown_id_fails(make_config, numbers_file, tmp_path):
    res = inspect(str(demo_run(make_config, numbers_file, tmp_path)), "--trace", "nope:123")
    assert res.returncode == 1 and "not found" in res.stderr


def test_a_run_is_readable_from_another_process_while_a_python_stage_runs(make_config, numbers_file, tmp_path):
    """SQL stages share one connection to run.duckdb; a Python stage (which may wait on models for hours) runs
    with the file closed, so inspect, the DuckDB CLI or a notebook can read what is finished."""
    evens = tmp_path / "evens.sql"
    evens.write_text("select * from numbers where n % 2 = 0")
    summary = run(make_config({
        "numbers": {"source": str(numbers_file)},
        "evens": {"sql": str(evens), "inputs": ["numbers"]},
        "looked": {"fn": f"{F}:inspected_meanwhile", "inputs": {"numbers": "evens"}},
    }), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    [(exit_code, printed)] = table(tmp_path / "run", "select exit_code, printed from looked")
    assert exit_code == 0, printed
    assert dict(line.split() for line in printed.splitlines()[1:]) == {"evens": "5", "numbers": "10"}
