"""What the pages ask of run.duckdb, each a bounded query: paging and filtering in SQL, never a whole table."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb

from engine.store import FILES_TABLE, META_TABLE, RunDB, quote

PAGE_ROWS = 50
EXAMPLES_PER_REASON = 3
CHILDREN_PER_TABLE = 10
LEDGER = "llm_calls"
ENGINE_TABLES = (LEDGER, "sim_truth", FILES_TABLE)  # tables the engine keeps beside the stages'


class QueryError(Exception):
    """A filter the user typed that DuckDB refused; the message is DuckDB's."""


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Stage tables and the engine's own, computed or views of stored Parquet (information_schema lists both)."""
    return sorted(t for t in RunDB.tables(con) if t != META_TABLE)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()]


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]


def finished_stages(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Per stage, the stats the run recorded when it finished the stage (every iteration of a loop added up): the
    funnel of a run that has no summary yet."""
    out: dict[str, dict] = {}
    for stage, stats in con.execute(f"SELECT stage, stats FROM {META_TABLE} ORDER BY rowid").fetchall():
        stats = json.loads(stats)
        s = out.setdefault(stage, {"rows_in": 0, "rows_out": 0, "rejected": {}, "errors": 0, "reused": False})
        for key in ("rows_in", "rows_out", "errors"):
            s[key] += stats.get(key, 0)
        for reason, n in stats.get("rejected", {}).items():
            s["rejected"][reason] = s["rejected"].get(reason, 0) + n
    return out


@dataclass(frozen=True)
class TableQuery:
    table: str
    page: int = 0
    sort: str | None = None
    descending: bool = False
    text: str = ""  # matched case-insensitively against every column
    where: str = ""  # a SQL condition, as typed


def table_page(con: duckdb.DuckDBPyConnection, q: TableQuery) -> tuple[list[str], list[tuple], int]:
    """(columns, rows of the page, rows matching the filters)."""
    cols = columns(con, q.table)
    conditions, params = [], []
    if q.text:
        conditions.append("concat_ws(' ', " + ", ".join(f"{quote(c)}::VARCHAR" for c in cols) + ") ILIKE ?")
        params.append(f"%{q.text}%")
    if q.where:
        conditions.append(f"({q.where})")
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    order = f" ORDER BY {quote(q.sort)} {'DESC' if q.descending else 'ASC'} NULLS LAST" if q.sort in cols else ""
    select = f"SELECT * FROM {quote(q.table)}{where}{order} LIMIT {PAGE_ROWS} OFFSET {q.page * PAGE_ROWS}"
    try:
        # the connection is read-only; one SELECT also keeps a typed `1); COPY ... TO` from writing a file
        statements = con.extract_statements(select)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise QueryError("the filter must be one condition (a WHERE clause), not further statements")
        total = con.execute(f"SELECT count(*) FROM {quote(q.table)}{where}", params).fetchone()[0]
        rows = con.execute(select, params).fetchall()
    except duckdb.InterruptException as e:
        raise QueryError("the query ran too long and was stopped (the run may need the file)") from e
    except duckdb.Error as e:
        raise QueryError(str(e)) from e
    return cols, rows, total


def rejected_by_reason(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int, list[dict]]]:
    """(reason, rows, a few example rows) for `table`, a `<stage>__rejected` table, commonest reason first."""
    counts = con.execute(f"SELECT reason, count(*) AS n FROM {quote(table)} GROUP BY reason ORDER BY n DESC, reason"
                         ).fetchall()
    rel = con.execute(f"SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY reason) AS rn "
                      f"FROM {quote(table)}) WHERE rn <= {EXAMPLES_PER_REASON}")
    names = [d[0] for d in rel.description]
    examples: dict[str, list[dict]] = {}
    for row in rel.fetchall():
        record = dict(zip(names, row, strict=True))
        examples.setdefault(record["reason"], []).append(record)
    return [(reason, n, examples.get(reason, [])) for reason, n in counts]


def tables_with(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    return sorted(r[0] for r in con.execute(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND column_name = ?", [column]).fetchall())


def children(con: duckdb.DuckDBPyConnection, row_id: str) -> list[tuple[str, int, list[dict]]]:
    """(table, rows, the first of them) for every table with rows that name `row_id` as a parent."""
    out = []
    for table in tables_with(con, "parent_ids"):
        where = f"FROM {quote(table)} WHERE list_contains(parent_ids::VARCHAR[], ?)"
        n = con.execute(f"SELECT count(*) {where}", [row_id]).fetchone()[0]
        if n:
            rel = con.execute(f"SELECT * {where} LIMIT {CHILDREN_PER_TABLE}", [row_id])
            names = [d[0] for d in rel.description]
            out.append((table, n, [dict(zip(names, r, strict=True)) for r in rel.fetchall()]))
    return out


def tables_holding(con: duckdb.DuckDBPyConnection, row_id: str) -> list[tuple[str, str | None]]:
    """(table, reason it was rejected or None) for every table holding a row with this id: a row a stage passes on
    keeps its id, so this says how far it got (kept by `verifiers_kept`, or in its `__rejected` and why)."""
    out = []
    for table in tables_with(con, "id"):
        rejected = table.endswith("__rejected") and "reason" in columns(con, table)
        hit = con.execute(f"SELECT {'reason' if rejected else 'NULL'} FROM {quote(table)} WHERE id = ? LIMIT 1",
                          [row_id]).fetchone()
        if hit:
            out.append((table, hit[0]))
    return out


def model_keys(row: dict) -> list[str]:
    """The response-cache keys a row names: `llm_key`, and other `*_key` columns such as a judge's."""
    return [v for k, v in row.items() if (k == "llm_key" or k.endswith("_key")) and isinstance(v, str) and v]


def calls_for(con: duckdb.DuckDBPyConnection, keys: list[str]) -> tuple[list[str], list[tuple]]:
    if not keys or LEDGER not in RunDB.tables(con):
        return [], []
    rel = con.execute(f"SELECT * FROM {LEDGER} WHERE key IN (SELECT unnest(?)) ORDER BY ts", [keys])
    return [d[0] for d in rel.description], rel.fetchall()


def replies(cache: Path | None, keys: list[str]) -> dict[str, dict]:
    """The stored responses (text, finish reason, tokens) by key, read from the response cache read-only."""
    if cache is None or not keys:
        return {}
    try:
        db = sqlite3.connect(f"{cache.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            marks = ",".join("?" * len(keys))
            rows = db.execute(f"SELECT key, response FROM responses WHERE key IN ({marks})", keys).fetchall()
        finally:
            db.close()
    except sqlite3.Error:  # a busy or foreign cache file: the page shows the calls without their replies
        return {}
    return {key: json.loads(response) for key, response in rows}


def models_per_role(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    if LEDGER not in RunDB.tables(con):
        return []
    return con.execute(f"SELECT role, backend, model, count(*) AS calls FROM {LEDGER} GROUP BY ALL ORDER BY role, "
                       "model").fetchall()


def account(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """(per stage and role: calls, cache hits, failures, tokens, cost; failures by reason and error)."""
    if LEDGER not in RunDB.tables(con):
        return [], []
    per_stage = con.execute(
        f"SELECT stage, role, count(*), count(*) FILTER (cache_hit), count(*) FILTER (NOT ok), sum(prompt_tokens), "
        f"sum(completion_tokens), round(sum(cost_usd), 6) FROM {LEDGER} GROUP BY ALL ORDER BY min(ts)").fetchall()
    failures = con.execute(
        f"SELECT coalesce(reason, 'error'), coalesce(error, ''), count(*) AS n FROM {LEDGER} WHERE NOT ok "
        "GROUP BY ALL ORDER BY n DESC LIMIT 30").fetchall()
    return per_stage, failures
