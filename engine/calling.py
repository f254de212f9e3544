"""Calling a Python stage's function: bound by argument name, `fn` stages on their whole inputs, `map` and
`filter` stages row by row (with `max_errors`); a stage's exception becomes a StageError saying where."""

from __future__ import annotations

import inspect
import logging
import traceback
from pathlib import Path
from typing import Any

from engine.config import PROJECT_ROOT
from engine.context import Context, StageError
from engine.graph import Stage
from engine.llm.types import EndpointDown, LLMConfigError
from engine.rows import Rejected

log = logging.getLogger("engine")


def where_raised(e: BaseException) -> str:
    """Where an exception was raised, as "at FILE:LINE in FUNCTION": the message of a stage that failed in a
    shard on a remote worker is all the driver gets, so it carries the location itself."""
    frame = traceback.extract_tb(e.__traceback__)[-1]
    path = Path(frame.filename)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return f"at {shown}:{frame.lineno} in {frame.name}"


def call_stage(stage: Stage, inputs: dict[str, list[dict]], ctx: Context) -> list:
    wanted = inspect.signature(stage.func).parameters
    extras = {k: v for k, v in (("params", stage.params), ("ctx", ctx)) if k in wanted}
    if stage.kind == "fn":
        try:
            output = stage.func(**inputs, **extras)
        except StageError:
            raise
        except (EndpointDown, LLMConfigError) as e:  # the user's endpoint or config, not the stage's code
            raise StageError(stage.name, str(e)) from e
        except Exception as e:
            log.error("stage %s raised:\n%s", stage.name, traceback.format_exc())
            raise StageError(stage.name, f"{type(e).__name__}: {e} ({where_raised(e)})") from e
        if not isinstance(output, list):
            raise StageError(stage.name, f"{stage.spec.fn} returned {type(output).__name__}, expected a list of rows")
        return output
    (rows,) = inputs.values()
    return call_per_row(stage, rows, extras, ctx)


def call_per_row(stage: Stage, rows: list[dict], extras: dict, ctx: Context) -> list:
    output: list = []
    errors = 0
    for row in ctx.progress(rows, total=len(rows)):
        try:
            result = stage.func(row, **extras)
        except (EndpointDown, LLMConfigError) as e:
            raise StageError(stage.name, str(e)) from e
        except Exception as e:
            errors += 1
            detail = f"{type(e).__name__}: {e}"
            if errors > stage.spec.max_errors:
                log.error("stage %s raised on row %s:\n%s", stage.name, row.get("id"), traceback.format_exc())
                raise StageError(stage.name, f"row {row.get('id')!r}: {detail} "
                                             f"(max_errors={stage.spec.max_errors})") from e
            output.append(Rejected(row, "error", detail))
            continue
        if stage.kind == "filter":
            if result is True:
                output.append(row)
            else:
                output.append(Rejected(row, result if isinstance(result, str) and result else "rejected"))
        elif result is None:
            continue
        elif isinstance(result, list):
            output.extend(_with_parent(r, row) for r in result)
        else:
            output.append(_with_parent(result, row))
    return output


def _with_parent(result: Any, row: dict) -> Any:
    """A map stage's new row descends from the row it was made from, unless it says otherwise."""
    if isinstance(result, Rejected) or "id" in result or "parent_ids" in result:
        return result
    return {**result, "parent_ids": [row["id"]]}
