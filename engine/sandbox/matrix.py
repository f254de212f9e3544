"""Cross-validation: run every function on every case and keep the whole result matrix.

Used by AutoIF (verifiers x test responses) and code/test co-generation (programs x tests). The rows are
ready for the engine to store as a DuckDB table, one row per (function_id, case_id):

    function_id  str      the function's id
    case_id  str          the case's id
    status   str          ok | error | timeout | memory | forbidden | syntax
    value    str | None   the return value as JSON text when status is ok, else None: 'true', 'false',
                          '3', '"text"', '[1, 2]'. Tuples and sets become arrays (sets sorted), bytes
                          become strings (UTF-8, invalid bytes replaced), dict keys become strings,
                          NaN and infinities become the strings "nan", "inf", "-inf".
    message  str          why, when status is not ok ('non-bool' with expect_bool and a value not a bool)

Storing `value` as JSON text keeps the column one type whatever the functions return; DuckDB reads it
back with `value::JSON` or `try_cast(value AS BOOLEAN)`. With the table stored as `verifier_matrix` and
labelled cases in `cases(case_id, expected BOOLEAN)`, a verifier's accuracy and its agreement with the
majority verdict are:

    with verdicts as (
        select function_id, case_id, try_cast(value as boolean) as verdict
        from verifier_matrix
    ),
    majority as (
        select case_id, avg(verdict::int) >= 0.5 as verdict
        from verdicts where verdict is not null group by case_id
    ),
    final as (
        select v.function_id,
               avg(coalesce(v.verdict = c.expected, false)::int) as accuracy,
               avg(coalesce(v.verdict = m.verdict, false)::int) as agreement,
               count(*) filter (where v.verdict is null) as failed_cases
        from verdicts v join cases c using (case_id) join majority m using (case_id)
        group by v.function_id
    )
    select * from final order by accuracy desc
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from engine.sandbox.outcome import Job

if TYPE_CHECKING:
    from engine.sandbox.pool import Sandbox


class MatrixRow(TypedDict):
    function_id: str
    case_id: str
    status: str
    value: str | None
    message: str


def cross_validate(sandbox: Sandbox, functions: Sequence[Mapping[str, Any]],
                   cases: Sequence[Mapping[str, Any]], *, expect_bool: bool = False,
                   desc: str | None = None) -> list[MatrixRow]:
    """Rows for every function (`id`, `source`, `entry`) on every case (`id`, `args`: a list or tuple),
    function-major. With expect_bool, only a real bool counts as a value (see engine.sandbox.as_verdict)."""
    return cross_validate_groups(sandbox, {"": (functions, cases)}, expect_bool=expect_bool, desc=desc)[""]


def cross_validate_groups(sandbox: Sandbox,
                          groups: Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
                          *, expect_bool: bool = False, desc: str | None = None) -> dict[str, list[MatrixRow]]:
    """cross_validate for many independent groups (e.g. one per constraint: its verifiers on its cases) in one
    sandbox batch, so the workers stay busy across groups and a job that hangs holds up one worker, not the
    batch. Returns each group's rows, function-major."""
    jobs = [Job(function["source"], function["entry"], tuple(case["args"]))
            for functions, cases in groups.values() for function in functions for case in cases]
    outcomes = iter(sandbox.run(jobs, expect_bool=expect_bool, desc=desc))
    out: dict[str, list[MatrixRow]] = {}
    for group, (functions, cases) in groups.items():
        rows = out[group] = []
        for function in functions:
            for case in cases:
                outcome = next(outcomes)
                value = json.dumps(to_json(outcome.value), allow_nan=False) if outcome.status == "ok" else None
                rows.append(MatrixRow(function_id=str(function["id"]), case_id=str(case["id"]), status=outcome.status,
                                      value=value, message=outcome.message))
    return out


def to_json(value: Any) -> Any:
    """Plain data (see Outcome.value) as JSON-encodable data, by the rules in the module docstring."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict):
        return {key if isinstance(key, str) else json.dumps(to_json(key)): to_json(item)
                for key, item in value.items()}
    return value
