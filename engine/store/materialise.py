"""Turning a stage's raw output (a temporary table `__out`, and `__rej` for rejected rows) into its table in
run.duckdb and its slice in the stage store: ids assigned, lineage checked, iteration tagged, rejects split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from engine.graph import InputRef, Stage
from engine.store import RunDB, StageStore, quote, sql_path, write_parquet

OUT, REJ = "__out", "__rej"


def input_where(ref: InputRef, iteration: int | None) -> str:
    """The rows of `ref.stage` that this reference means, as a WHERE clause."""
    if ref.scope == "current":
        return f"WHERE iteration = {iteration}"
    if ref.scope == "prev":
        return f"WHERE iteration = {iteration - 1}"
    if ref.scope == "history":
        return f"WHERE iteration < {iteration}"
    if ref.scope == "last":
        return f"WHERE iteration = (SELECT max(iteration) FROM {quote(ref.stage)})"
    return ""


def input_sql(con: duckdb.DuckDBPyConnection, ref: InputRef, iteration: int | None,
              init: dict[str, str]) -> str | None:
    """A SELECT for the rows an input refers to, or None when there are none (an absent table)."""
    tables = RunDB.tables(con)
    if ref.scope == "prev" and iteration == 0:
        start = init.get(ref.stage)
        return f"SELECT * FROM {quote(db_name(con))}.main.{quote(start)}" if start in tables else None
    if ref.stage not in tables:
        return None
    return f"SELECT * FROM {quote(db_name(con))}.main.{quote(ref.stage)} {input_where(ref, iteration)}"


def db_name(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


def read_rows(con: duckdb.DuckDBPyConnection, select_sql: str | None) -> list[dict[str, Any]]:
    # sorted by id so a Python stage sees the same order whatever order a parallel SQL stage produced
    if select_sql is None:
        return []
    cols = [r[0] for r in con.execute(f"DESCRIBE {select_sql}").fetchall()]
    order = "iteration, id" if "iteration" in cols else "id"
    return con.execute(f"SELECT * FROM ({select_sql}) ORDER BY {order}").to_arrow_table().to_pylist()


def count_rows(con: duckdb.DuckDBPyConnection, select_sql: str | None) -> int:
    return 0 if select_sql is None else con.execute(f"SELECT count(*) FROM ({select_sql})").fetchone()[0]


def create_from_arrow(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table | None) -> None:
    if table is None:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT NULL::VARCHAR AS id, []::VARCHAR[] AS parent_ids "
                    "WHERE false")
        return
    con.register("__arrow", table)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM __arrow")
    con.unregister("__arrow")


def columns(con: duckdb.DuckDBPyConnection, select_sql: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {select_sql}").fetchall()]


def normalised_select(con: duckdb.DuckDBPyConnection, raw_sql: str, stage: str, iteration: int | None,
                      number_repeats: bool = True) -> str:
    """A SELECT over `raw_sql` giving id (kept when present, else a content hash), parent_ids, iteration
    (inside loops), then the stage's own columns. It is a query, not a table, so the rows are written once.
    `number_repeats=False` leaves out the numbering of identical rows (a window over every row): for callers
    that check the ids are unique and come back with numbering only when they are not."""
    cols = columns(con, f"({raw_sql})")
    it = "NULL::INTEGER" if iteration is None else f"{iteration}::INTEGER"
    with_iteration = f"SELECT * REPLACE ({it} AS iteration)" if "iteration" in cols else f"SELECT *, {it} AS iteration"
    with_parents = "" if "parent_ids" in cols else ", []::VARCHAR[] AS parent_ids"
    step1 = f"{with_iteration}{with_parents} FROM ({raw_sql})"
    if "id" in cols:
        step2 = f"SELECT * REPLACE (CAST(id AS VARCHAR) AS id) FROM ({step1})"
    elif not number_repeats:
        step2 = (f"SELECT * EXCLUDE (__h), '{stage}:' || substr(__h, 1, 16) AS id FROM ("
                 f"SELECT *, md5(CAST(to_json(s) AS VARCHAR)) AS __h FROM ({step1}) s)")
    else:
        # identical rows (same content, same parents) get -1, -2 ... so ids stay unique and stable
        step2 = (
            f"SELECT * EXCLUDE (__h, __n), '{stage}:' || substr(__h, 1, 16) || "
            f"CASE WHEN __n > 0 THEN '-' || __n ELSE '' END AS id FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY __h) - 1 AS __n FROM ("
            f"SELECT *, md5(CAST(to_json(s) AS VARCHAR)) AS __h FROM ({step1}) s))"
        )
    keep_iteration = "" if iteration is not None else ", iteration"
    return f"SELECT id, parent_ids, * EXCLUDE (id, parent_ids{keep_iteration}) FROM ({step2})"


def drop_temp_objects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary tables and views a stage made (its raw output, its input views)."""
    for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall():
        con.execute(f"DROP VIEW temp.main.{quote(name)}")
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f"DROP TABLE temp.main.{quote(name)}")


def split_reason_column(con: duckdb.DuckDBPyConnection, raw_sql: str) -> tuple[str, str | None]:
    """A SQL stage rejects rows by giving them a non-null `reason` (and optionally `detail`).
    Returns the SELECTs for kept and rejected rows (None when the stage cannot reject)."""
    cols = columns(con, f"({raw_sql})")
    if "reason" not in cols:
        return raw_sql, None
    drop = "reason, detail" if "detail" in cols else "reason"
    con.execute(f"CREATE TEMP TABLE {OUT} AS {raw_sql}")
    return (f"SELECT * EXCLUDE ({drop}) FROM {OUT} WHERE reason IS NULL",
            f"SELECT * FROM {OUT} WHERE reason IS NOT NULL")


def duplicate_id(con: duckdb.DuckDBPyConnection, rows: str) -> str | None:
    """An id that appears twice among `rows` (a FROM clause), or None."""
    dup = con.execute(f"SELECT id FROM {rows} GROUP BY id HAVING count(*) > 1 LIMIT 1")
    return (dup.fetchone() or (None,))[0]


def slice_stats(con: duckdb.DuckDBPyConnection, kept: str, rejected: str | None, rows_in: int) -> dict:
    """A slice's counts, from its kept and rejected rows (FROM clauses)."""
    reasons = {} if rejected is None else dict(con.execute(
        f"SELECT reason, count(*) FROM {rejected} GROUP BY reason ORDER BY 2 DESC").fetchall())
    return {
        "rows_in": rows_in,
        "rows_out": con.execute(f"SELECT count(*) FROM {kept}").fetchone()[0],
        "rejected": reasons,
        "errors": sum(n for r, n in reasons.items() if r in ("error", "llm_error")),
    }


def commit(con: duckdb.DuckDBPyConnection, stage: Stage, iteration: int | None, fingerprint: str,
           kept_sql: str, rejected_sql: str | None, rows_in: int, store: StageStore | None,
           on_duplicate: Callable[[str], Exception], side_tables: dict[str, str] | None = None) -> dict:
    """Write a slice (the rows of `kept_sql`, and of `rejected_sql`) into the run's tables and the shared
    store; return its stats. `side_tables` (table -> SELECT) are rows the run already holds elsewhere (the
    stage's sim ground truth) that the store keeps with the slice for runs that reuse it."""
    # identical rows are rare, and numbering them costs a window over every row: the uniqueness check, needed
    # anyway for ids a stage gives itself, tells when to number
    makes_ids = "id" not in columns(con, f"({kept_sql})")
    if iteration is None and isinstance(store, StageStore):
        stats = commit_to_store(con, stage, fingerprint, kept_sql, rejected_sql, rows_in, store, on_duplicate,
                                side_tables or {}, makes_ids)
    else:
        stats = commit_to_tables(con, stage, iteration, fingerprint, kept_sql, rejected_sql, rows_in, store,
                                 on_duplicate, side_tables or {}, makes_ids)
    RunDB.record(con, stage.name, iteration, fingerprint, stats)
    drop_temp_objects(con)
    return stats


def commit_to_store(con: duckdb.DuckDBPyConnection, stage: Stage, fingerprint: str, kept_sql: str,
                    rejected_sql: str | None, rows_in: int, store: StageStore,
                    on_duplicate: Callable[[str], Exception], side_tables: dict[str, str], makes_ids: bool) -> dict:
    """A whole stage written once, as its slice in the stage store, and its tables in the run made views of that
    slice's Parquet, as a reused stage's are: the rows are not copied into run.duckdb as well (that copy was a
    third of the engine's cost in benchmarks.engine_overhead)."""
    with store.writing(fingerprint) as slice_dir:
        kept = slice_dir / "kept.parquet"
        kept_rows = f"read_parquet('{sql_path(kept)}')"
        write_parquet(con, normalised_select(con, kept_sql, stage.name, None, number_repeats=False), kept)
        dup = duplicate_id(con, kept_rows)
        if dup and makes_ids:
            write_parquet(con, normalised_select(con, kept_sql, stage.name, None), kept)
            dup = duplicate_id(con, kept_rows)
        if dup:
            raise on_duplicate(dup)
        rejected_rows = None
        if rejected_sql is not None:
            rejected = slice_dir / "rejected.parquet"
            write_parquet(con, normalised_select(con, rejected_sql, stage.name, None), rejected)
            rejected_rows = f"read_parquet('{sql_path(rejected)}')"
        stats = slice_stats(con, kept_rows, rejected_rows, rows_in)
        store.finish(con, slice_dir, stats, side_tables)
    stored = store.get(fingerprint)
    RunDB.link(con, stage.name, stored.kept)
    if stored.rejected is not None:
        RunDB.link(con, f"{stage.name}__rejected", stored.rejected)
    return stats


def commit_to_tables(con: duckdb.DuckDBPyConnection, stage: Stage, iteration: int | None, fingerprint: str,
                     kept_sql: str, rejected_sql: str | None, rows_in: int, store,
                     on_duplicate: Callable[[str], Exception], side_tables: dict[str, str], makes_ids: bool) -> dict:
    """A slice written as rows of the run's tables (a loop's iteration, a stage kept out of the store, or a store
    elsewhere), then copied to the store when there is one."""
    slice_where = "" if iteration is None else f"WHERE iteration = {iteration}"
    kept_rows = f"{quote(stage.name)} {slice_where}"
    rejected_rows = None if rejected_sql is None else f"{quote(f'{stage.name}__rejected')} {slice_where}"
    RunDB.append(con, stage.name, normalised_select(con, kept_sql, stage.name, iteration, number_repeats=False))
    dup = duplicate_id(con, kept_rows)
    if dup and makes_ids:
        RunDB.drop_slice(con, stage.name, iteration)
        RunDB.append(con, stage.name, normalised_select(con, kept_sql, stage.name, iteration))
        dup = duplicate_id(con, kept_rows)
    if rejected_sql is not None:
        RunDB.append(con, f"{stage.name}__rejected", normalised_select(con, rejected_sql, stage.name, iteration))
    if dup:
        RunDB.drop_slice(con, stage.name, iteration)
        raise on_duplicate(dup)
    stats = slice_stats(con, kept_rows, rejected_rows, rows_in)
    if store is not None:
        store.put(con, fingerprint, f"SELECT * FROM {kept_rows}",
                  None if rejected_rows is None else f"SELECT * FROM {rejected_rows}", stats, side_tables)
    return stats


def load_stored(con: duckdb.DuckDBPyConnection, stage: Stage, iteration: int | None, fingerprint: str,
                stored) -> dict:
    """Bring a stored slice into the run: a whole table as a view of the stored Parquet (no copy), a loop's
    iteration as rows added to the stage's table."""
    if iteration is None:
        RunDB.link(con, stage.name, stored.kept)
        if stored.rejected is not None:
            RunDB.link(con, f"{stage.name}__rejected", stored.rejected)
    else:
        RunDB.append(con, stage.name, f"SELECT * FROM read_parquet('{stored.kept}')")
        if stored.rejected is not None:
            RunDB.append(con, f"{stage.name}__rejected", f"SELECT * FROM read_parquet('{stored.rejected}')")
    for table, path in stored.side_tables.items():
        RunDB.append(con, table, f"SELECT * FROM read_parquet('{path}')")
    RunDB.record(con, stage.name, iteration, fingerprint, stored.stats)
    return stored.stats
