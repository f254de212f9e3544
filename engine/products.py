"""Files a stage writes as products of the run (exports/, datasets in user formats): kept like its rows.

A stage asks `ctx.output_path("exports/x.jsonl")` and writes there, into a staging folder of its own. When it
finishes, the engine takes the files into run.duckdb (`stage_files`, one row per (stage, iteration, path)) and into
the stage's slice in the stage store, as a side table. At the end of every run, finished or failed, each file of
`stage_files` is written to its path in the run directory. So a run that reuses the stage, in its own or a fresh
directory, writes the same bytes as the run that computed it, and a stage that failed leaves no half-written file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from engine.context import staging_dir
from engine.store import FILES_TABLE, RunDB


def clear_staging(run_dir: Path, stage: str, iteration: int | None) -> None:
    """Forget files an earlier, killed attempt at this slice left behind."""
    shutil.rmtree(staging_dir(run_dir, stage, iteration), ignore_errors=True)


def take_files(con: duckdb.DuckDBPyConnection, stage: str, iteration: int | None, run_dir: Path) -> dict[str, str]:
    """Move the files a stage just wrote into run.duckdb; the side table (name -> SELECT) the store keeps them in."""
    folder = staging_dir(run_dir, stage, iteration)
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if not files:
        return {}
    con.register("__files", pa.table({
        "stage": [stage] * len(files),
        "iteration": pa.array([iteration] * len(files), pa.int32()),
        "path": [p.relative_to(folder).as_posix() for p in files],
        "content": pa.array([p.read_bytes() for p in files], pa.binary()),
    }))
    RunDB.append(con, FILES_TABLE, "SELECT * FROM __files")
    con.unregister("__files")
    shutil.rmtree(folder)
    if not any(folder.parent.iterdir()):  # no stage is writing: leave the run directory as a user expects it
        folder.parent.rmdir()
    where = f"stage = '{stage}' AND iteration IS NOT DISTINCT FROM {'NULL' if iteration is None else iteration}"
    return {FILES_TABLE: f"SELECT * FROM {FILES_TABLE} WHERE {where}"}


def publish(con: duckdb.DuckDBPyConnection, run_dir: Path) -> None:
    """Write every stage's files into the run directory, leaving a file already holding the same bytes alone."""
    if FILES_TABLE not in RunDB.tables(con):
        return
    for relative, content in con.execute(f"SELECT path, content FROM {FILES_TABLE} ORDER BY path").fetchall():
        path = run_dir / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(content)
        os.replace(tmp, path)  # a reader of exports/ never sees half a file
