"""Look inside a run: `python -m engine.inspect RUN_DIR` lists its tables, `... RUN_DIR "SELECT ..."` runs a
query, `... RUN_DIR --trace ROW_ID` follows a row's lineage back to its seed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from engine.store import META_TABLE, RunDB, quote

PREVIEW_CHARS = 100


def list_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    names = sorted(t for t in RunDB.tables(con) if t != META_TABLE)
    return [(n, con.execute(f"SELECT count(*) FROM {quote(n)}").fetchone()[0]) for n in names]


def find_row(con: duckdb.DuckDBPyConnection, row_id: str, tables: set[str]) -> tuple[str, dict] | None:
    """Rows are found in the table of the stage that made them (the id's prefix); pass-through rows keep
    their id, so that table holds the original."""
    prefix = row_id.split(":", 1)[0]
    candidates = [prefix] if prefix in tables else []
    candidates += sorted(t for t in tables if t not in candidates and t != META_TABLE)
    for table in candidates:
        cols = {r[0] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
        if "id" not in cols:
            continue
        rel = con.execute(f"SELECT * FROM {quote(table)} WHERE id = ? LIMIT 1", [row_id])
        hit = rel.fetchone()
        if hit:
            return table, dict(zip([d[0] for d in rel.description], hit, strict=True))
    return None


def trace(con: duckdb.DuckDBPyConnection, row_id: str) -> list[tuple[int, str, dict | None, str]]:
    """(depth, table, row, id) for the row and every ancestor, depth-first, each ancestor once."""
    tables = RunDB.tables(con)
    out, seen = [], set()

    def visit(rid: str, depth: int) -> None:
        if rid in seen:
            out.append((depth, "", None, f"{rid} (shown above)"))
            return
        seen.add(rid)
        found = find_row(con, rid, tables)
        if found is None:
            out.append((depth, "?", None, rid))
            return
        table, row = found
        out.append((depth, table, row, rid))
        for parent in row.get("parent_ids") or []:
            visit(parent, depth + 1)

    visit(row_id, 0)
    return out


def _preview(row: dict) -> str:
    fields = {k: v for k, v in row.items() if k not in ("id", "parent_ids")}
    text = json.dumps(fields, default=str, ensure_ascii=False)
    return text if len(text) <= PREVIEW_CHARS * 2 else text[: PREVIEW_CHARS * 2] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.inspect", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("sql", nargs="?", help="a query over the run's tables")
    parser.add_argument("--trace", metavar="ROW_ID", help="print a row's lineage back to its seed")
    parser.add_argument("--max-rows", type=int, default=40)
    args = parser.parse_args(argv)
    db = args.run_dir / "run.duckdb" if args.run_dir.is_dir() else args.run_dir
    if not db.is_file():
        print(f"no run.duckdb in {args.run_dir}", file=sys.stderr)
        return 2
    with RunDB.connect_readonly(db) as con:
        if args.trace:
            lines = trace(con, args.trace)
            if lines[0][2] is None:
                print(f"row {args.trace!r} not found in any table of {db}", file=sys.stderr)
                return 1
            for depth, table, row, rid in lines:
                pad = "  " * depth + ("└─ " if depth else "")
                print(f"{pad}{table + ' ' if table else ''}{rid}" + (f"  {_preview(row)}" if row else ""))
            return 0
        if args.sql:
            try:
                con.sql(args.sql).show(max_rows=args.max_rows, max_width=200)
            except duckdb.Error as e:
                print(f"query failed: {str(e).splitlines()[0]}", file=sys.stderr)
                return 1
            return 0
        rows = list_tables(con)
        width = max((len(n) for n, _ in rows), default=5)
        print(f"{'table'.ljust(width)}  rows")
        for name, n in rows:
            print(f"{name.ljust(width)}  {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
