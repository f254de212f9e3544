"""A query's result as rows: what reports read from `run.duckdb`."""

from __future__ import annotations

import duckdb


def query_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """One dict per result row, keyed by column name, in the query's order."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
