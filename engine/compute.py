"""Computing a stage slice: SQL and source stages inside DuckDB, Python stages by calling their function (whole,
per row, or in shards through the executor), then `materialise.commit` turns the rows into tables. A Python slice
in which a model request failed transiently is stored as incomplete, so the next run computes it again."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from engine import products
from engine.calling import call_stage
from engine.config import PROJECT_ROOT
from engine.context import Context, StageError
from engine.executor import Sharded, ShardsFailed
from engine.graph import Stage, sha256
from engine.llm.types import FINAL_FAILURES, TRANSIENT
from engine.rows import Rejected, RowsError, declared_schema, to_arrow
from engine.run_env import RunEnv, add_sandbox_stats, flush_ledger, ledger_table, loop_init
from engine.store import RunDB, StageStore, quote
from engine.store import materialise as mat

log = logging.getLogger("engine")


def _duplicate_error(stage: Stage):
    return lambda row_id: StageError(
        stage.name, f"row id {row_id!r} appears twice in the output; a pass-through row was returned twice, "
        "or two new rows carry the same 'id'")


def compute(stage: Stage, iteration: int | None, fingerprint: str, env: RunEnv, store: StageStore | None) -> dict:
    if stage.kind in ("sql", "source"):
        return compute_in_duckdb(stage, iteration, fingerprint, env, store)
    return compute_python(stage, iteration, fingerprint, env, store)


def compute_in_duckdb(stage: Stage, iteration: int | None, fingerprint: str, env: RunEnv,
                      store: StageStore | None) -> dict:
    with env.rundb.connect() as con:
        rows_in = 0
        if stage.kind == "source":
            raw = source_select(stage.source_path)
            if "id" in mat.columns(con, f"({raw})"):  # the file's own ids are kept; the engine's ids are its own
                raw = f"SELECT * RENAME (id AS source_id) FROM ({raw})"
        else:
            for ref in stage.inputs:
                select = mat.input_sql(con, ref, iteration, loop_init(stage, env))
                if select is None:
                    raise StageError(stage.name, f"input {ref.stage!r} has no table yet")
                rows_in += mat.count_rows(con, select)
                if ref.scope != "all" or ref.alias != ref.stage:
                    con.execute(f"CREATE OR REPLACE TEMP VIEW {ref.alias} AS {select}")
            for name, value in stage.params.items():
                con.execute(f"SET VARIABLE {name} = ?", [value])
            raw = stage.sql_text.strip().rstrip(";")
        try:
            kept_sql, rejected_sql = mat.split_reason_column(con, raw)
            return mat.commit(con, stage, iteration, fingerprint, kept_sql, rejected_sql, rows_in, store,
                              _duplicate_error(stage))
        except duckdb.Error as e:
            where = stage.spec.sql or stage.spec.source
            hint = _columnless_inputs_hint(con, stage) if isinstance(e, duckdb.BinderException) else ""
            raise StageError(stage.name, f"SQL error in {where}: {str(e).splitlines()[0]}{hint}") from e
        finally:  # the connection may serve the next stage: none of this stage's names may linger
            mat.drop_temp_objects(con)
            for name in stage.params or {}:
                con.execute(f"RESET VARIABLE {name}")


def _columnless_inputs_hint(con: duckdb.DuckDBPyConnection, stage: Stage) -> str:
    """Why a column may be missing: an input that came out empty with no columns of its own (a Python stage that
    produced no rows, rejected none and declares no row type)."""
    bare = [ref.stage for ref in stage.inputs if ref.stage in RunDB.tables(con)
            and set(mat.columns(con, quote(ref.stage))) <= {"id", "parent_ids", "iteration"}]
    if not bare:
        return ""
    return (f" (input {', '.join(map(repr, bare))} is empty and has no columns of its own: declare its stage's row "
            "type, `-> list[Row]` or `-> list[Row | Rejected]` with Row a TypedDict, so an empty output keeps them)")


def source_select(path: Path) -> str:
    p = str(path).replace("'", "''")
    if path.suffix == ".txt":  # one row per non-empty line
        return (f"SELECT trim(line) AS text FROM read_csv('{p}', columns={{'line': 'VARCHAR'}}, header=false, "
                "delim=chr(0), quote='', escape='', auto_detect=false) WHERE trim(line) <> ''")
    if path.suffix == ".csv":
        return f"SELECT * FROM read_csv('{p}')"
    if path.suffix == ".parquet":
        return f"SELECT * FROM read_parquet('{p}')"
    fmt = "newline_delimited" if path.suffix == ".jsonl" else "auto"
    return f"SELECT * FROM read_json('{p}', format='{fmt}')"


def compute_python(stage: Stage, iteration: int | None, fingerprint: str, env: RunEnv,
                   store: StageStore | None) -> dict:
    with env.rundb.connect() as con:
        inputs = {ref.alias: mat.read_rows(con, mat.input_sql(con, ref, iteration, loop_init(stage, env)))
                  for ref in stage.inputs}
    env.rundb.release()  # the stage may wait on models for hours: let inspect and the CLI read meanwhile
    cfg = env.config
    ctx = Context(stage.name, iteration, cfg.seed, env.run_dir, PROJECT_ROOT, list(stage.spec.llm),
                  stage.spec.sandbox, cfg.progress, env.make_llm, env.get_sandbox)
    sandbox_before = dict(env.sandbox.stats) if env.sandbox is not None else {}
    try:
        if stage.spec.shard is None:
            output = call_stage(stage, inputs, ctx)
        else:
            output = merge_shards(env, call_sharded(env, stage, iteration, inputs, ctx))
    finally:
        stage_truth = list(env.truth)  # kept with the slice, so a reused stage brings its ground truth along
        calls = list(env.ledger)
        flush_ledger(env)
        add_sandbox_stats(env, sandbox_before)
    failed, retried, healed = call_outcomes(calls)
    if failed:  # a failure is never finished work: the next run recomputes this slice, sending only these
        log.warning("stage %s: %d model requests failed; the stage is kept as incomplete, and rerunning the same "
                    "command retries them", stage.name, len(failed))
        fingerprint = sha256(fingerprint + "incomplete:" + ",".join(sorted(failed)))
        env.fingerprints[(stage.name, iteration)] = fingerprint  # what depends on it is recomputed too
        store = None
    kept = [o for o in output if not isinstance(o, Rejected)]
    rejected = [{**o.row, "reason": o.reason, "detail": o.detail} for o in output if isinstance(o, Rejected)]
    try:
        kept_table, rejected_table = to_arrow(kept, f"stage {stage.name}"), to_arrow(rejected, f"stage {stage.name}")
    except RowsError as e:
        raise StageError(stage.name, str(e)) from e
    with env.rundb.connect() as con:
        rejected_sql = None
        if rejected_table is not None:
            mat.create_from_arrow(con, mat.REJ, rejected_table)
            rejected_sql = f"SELECT * FROM {mat.REJ}"
        if kept_table is None and (schema := declared_schema(stage.func)) is not None:
            # nothing kept: the declared row type gives the empty table its columns (a rejected row often lacks
            # some, e.g. the verdict it never got), so later SQL binds and the funnel ends honestly at zero
            mat.create_from_arrow(con, mat.OUT, schema.empty_table())
        elif kept_table is None and rejected_table is not None:
            # everything was rejected and no row type is declared: the empty table gets the rejected rows' columns
            con.execute(f"CREATE TEMP TABLE {mat.OUT} AS SELECT * EXCLUDE (reason, detail) FROM {mat.REJ} WHERE false")
        else:
            mat.create_from_arrow(con, mat.OUT, kept_table)
        if rejected_sql is None and stage.kind == "filter":  # a filter always has its __rejected table
            rejected_sql = f"SELECT *, NULL::VARCHAR AS reason, NULL::VARCHAR AS detail FROM {mat.OUT} WHERE false"
        rows_in = sum(len(v) for v in inputs.values())
        if stage_truth:
            con.register("__truth", ledger_table(stage_truth, "sim_truth"))
        stats = mat.commit(con, stage, iteration, fingerprint, f"SELECT * FROM {mat.OUT}", rejected_sql, rows_in,
                           store, _duplicate_error(stage),
                           side_tables=({"sim_truth": "SELECT * FROM __truth"} if stage_truth else {})
                           | products.take_files(con, stage.name, iteration, env.run_dir))
    return {**stats, "failed_calls": len(failed), "retried_calls": retried, "healed_calls": healed}


def call_sharded(env: RunEnv, stage: Stage, iteration: int | None, inputs: dict, ctx: Context) -> Sharded:
    try:
        return env.executor.call_sharded(stage, iteration, inputs, ctx, env)
    except ShardsFailed as e:
        merge_shards(env, e.done)
        raise


def merge_shards(env: RunEnv, done: Sharded) -> list:
    """Add what shards that ran elsewhere spent to the run's account; their rows."""
    env.ledger.extend(done.ledger)
    env.truth.extend(done.truth)
    for k, v in done.sandbox.items():
        env.sandbox_totals[k] = env.sandbox_totals.get(k, 0) + v
    return done.output


def call_outcomes(calls: list[dict]) -> tuple[set[str], int, int]:
    """From a stage's ledger rows: the keys of requests whose final outcome is a transient failure, and how many
    requests that had failed in an earlier run were sent again, and answered."""
    answered = {r["key"] for r in calls if r["ok"] or r.get("reason") in FINAL_FAILURES}
    failed = {r["key"] for r in calls if r.get("reason") == TRANSIENT} - answered
    retried = {r["key"] for r in calls if r.get("retried_failure")}
    return failed, len(retried), len(retried & answered)
