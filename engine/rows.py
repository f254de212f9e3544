"""What stages hand back: rows, and rows they reject with a reason."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
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
        table = pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise RowsError(f"{what}: cannot make a typed table ({e}); {_mixed_column_hint(rows)}") from e
    return table.cast(pa.schema([pa.field(f.name, _typed(f.type)) for f in table.schema]))


def _typed(t: pa.DataType) -> pa.DataType:
    """Columns that held only None or empty lists have no type of their own; make them text, so a later
    slice with real values (or a UNION in SQL) lines up instead of meeting an INTEGER[] from nowhere."""
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_typed(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _typed(f.type)) for f in t])
    return t


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


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def _arrow_type(hint: Any) -> pa.DataType:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # Optional[X]: the column is nullable anyway
        rest = [a for a in args if a is not type(None)]
        return _arrow_type(rest[0]) if len(rest) == 1 else pa.string()
    if origin is list:
        return pa.list_(_arrow_type(args[0]) if args else pa.string())
    if typing.is_typeddict(hint):
        return pa.struct([pa.field(k, _arrow_type(v)) for k, v in typing.get_type_hints(hint).items()])
    return _ARROW_TYPES.get(hint, pa.string())


def row_type(func: Callable) -> type | None:
    """The TypedDict a stage declares its rows as: `-> list[SomeRow]` or `-> list[SomeRow | Rejected]` (a `fn`
    stage), `-> SomeRow` or `-> SomeRow | None` (a `map` stage: the engine adds parent_ids), or, for a `filter`
    stage, the type of the row it takes (`row: SomeRow`): the rows it keeps are the rows it is given."""
    hints = typing.get_type_hints(func)
    hint = hints.get("return")
    if typing.get_origin(hint) is list:
        (hint,) = typing.get_args(hint) or (None,)
    candidates = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    rows = [c for c in candidates if typing.is_typeddict(c)]
    if not rows and hint is not None and set(candidates) <= {bool, str}:  # a filter: its row parameter's type
        first = next(iter(inspect.signature(func).parameters), None)
        rows = [hints[first]] if first in hints and typing.is_typeddict(hints[first]) else []
    return rows[0] if len(rows) == 1 else None


def declared_schema(func: Callable) -> pa.Schema | None:
    """The row type a stage declares (`row_type`) as an Arrow schema: it gives an empty output its columns, so
    SQL downstream still binds."""
    rows = row_type(func)
    if rows is None:
        return None
    return pa.schema([pa.field(k, _arrow_type(v)) for k, v in typing.get_type_hints(rows).items()])
