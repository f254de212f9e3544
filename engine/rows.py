"""What stages hand back: rows, and rows they reject with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

Row = dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    """A row a stage decided not to keep. `reason` is a short slug counted in the funnel ("parse_error",
    "no_true_case"); `detail` says what exactly was wrong (the parse error, the raw reply)."""

    row: Row
    reason: str
    detail: str = ""


class RowsError(ValueError):
    pass


def to_arrow(rows: list[Row], what: str) -> pa.Table | None:
    """Rows as an Arrow table, or None when there are none. Mixed value types in one column are an error
    that names the column, because DuckDB tables are typed."""
    if not rows:
        return None
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise RowsError(f"{what}: cannot make a typed table ({e}); {_mixed_column_hint(rows)}") from e


def _mixed_column_hint(rows: list[Row]) -> str:
    types: dict[str, set[str]] = {}
    for row in rows:
        for k, v in row.items():
            if v is not None:
                types.setdefault(k, set()).add(type(v).__name__)
    mixed = {k: sorted(t) for k, t in types.items() if len(t) > 1 and t != {"int", "float"}}
    if mixed:
        return "columns with mixed types: " + ", ".join(f"{k} {v}" for k, v in mixed.items()) + \
            " (give each column one type, e.g. JSON-encode free-form values)"
    return "check that each column holds one type"
