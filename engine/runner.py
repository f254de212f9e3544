"""The runner: config -> checked graph -> each stage computed or reused -> tables, summary, funnel.

Read top to bottom: `run` walks the graph; `run_stage` decides between reusing a finished slice and computing
it; `compute_*` produce a stage's raw rows; `materialise.commit` turns them into tables.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import threading
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from omegaconf import DictConfig

from engine import materialise as mat
from engine import products
from engine.config import PROJECT_ROOT, ConfigError, RunConfig
from engine.context import Context, StageError
from engine.executor import LocalExecutor, RayExecutor, make_executor
from engine.graph import Graph, InputRef, Loop, Stage, params_for_fingerprint, resolve_path, sha256
from engine.ledger_journal import JOURNAL, JournaledLedger, leftover_rows, not_yet_written
from engine.llm.types import FINAL_FAILURES, TRANSIENT, EndpointDown, LLMConfigError
from engine.report import finish_report
from engine.rows import Rejected, RowsError, declared_schema, to_arrow
from engine.store import RunDB, StageStore

log = logging.getLogger("engine")
ENGINE_VERSION = "1"  # bump when a change in the engine changes what stages produce
# config keys that change how fast or how safely results come, never what they are
NOT_IN_FINGERPRINT = {"max_in_flight", "rpm", "tpm", "timeout_s", "max_retries", "cache", "api_key", "base_url",
                      "prices", "latency_ms", "workers", "progress", "batch_size", "device", "backoff_s",
                      "backoff_max_s", "cache_db", "stop_after_failures", "max_failure_rate",
                      "endpoint_id"}  # base_url and endpoint_id: the endpoint's identity is fingerprinted instead


@dataclass
class RunEnv:
    config: RunConfig
    graph: Graph
    run_dir: Path
    rundb: RunDB
    store: StageStore | None
    fingerprints: dict[tuple[str, int | None], str] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)  # loop -> iterations run
    stage_stats: dict[str, dict] = field(default_factory=dict)
    ledger: list[dict] = field(default_factory=list)  # llm attempts not yet written to run.duckdb (journaled)
    truth: list[dict] = field(default_factory=list)
    ledger_all: list[dict] = field(default_factory=list)  # the run directory's whole account, read at the end
    answered: set[tuple[str, str]] = field(default_factory=set)  # (stage, key) already in llm_calls
    recovered_calls: int = 0  # ledger rows of a killed earlier run, imported from its journal
    sandbox: Any = None
    sandbox_totals: dict[str, int] = field(default_factory=dict)
    executor: LocalExecutor | RayExecutor = field(default_factory=LocalExecutor)  # runs sharded stages

    @property
    def cache_dir(self) -> Path:
        return resolve_path(self.config.cache_dir)

    def role_config(self, role: str) -> dict:
        return role_config(self.config, role)

    def make_llm(self, stage: str, role: str):
        from engine.llm import make_llm

        return make_llm(self.role_config(role), stage=stage, role=role, cache_dir=self.cache_dir,
                        ledger=self.ledger, truth=self.truth, answered=self.answered)

    def get_sandbox(self):
        if self.sandbox is None:
            from engine.sandbox import Sandbox

            settings = dict(self.config.sandbox)
            cache = settings.get("cache", "readwrite")
            self.sandbox = Sandbox(**settings, cache_path=None if cache == "off" else self.cache_dir / "sandbox.sqlite")
        return self.sandbox


def role_config(config: RunConfig, role: str) -> dict:
    """A role's model config: the `llm` group with the role's own keys merged over it."""
    return _deep_merge(config.llm, config.roles.get(role, {}))


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _semantic(cfg: Any) -> Any:
    if isinstance(cfg, dict):
        return {k: _semantic(v) for k, v in sorted(cfg.items()) if k not in NOT_IN_FINGERPRINT}
    return cfg


# ---------------------------------------------------------------------------------------------- the run


def run(cfg: DictConfig | dict, run_dir: Path) -> dict:
    """Run one experiment into `run_dir`; never raises for a stage or config failure: the summary says."""
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # the funnel plot at the end needs matplotlib, half a second to import: import it meanwhile, as stages mostly
    # wait on DuckDB, models or the sandbox, all of which release the GIL
    threading.Thread(target=importlib.import_module, args=("matplotlib.figure",), daemon=True).start()
    env: RunEnv | None = None
    name = (cfg.get("name") if hasattr(cfg, "get") else None) or "unknown"
    status, error = "ok", None
    try:
        from engine.preflight import check  # it imports this module

        config, graph = check(cfg)
        cache_dir = resolve_path(config.cache_dir)
        executor = make_executor(config)
        rundb = RunDB(run_dir / "run.duckdb")
        recovered = recover_journal(rundb, run_dir)
        env = RunEnv(config, graph, run_dir, rundb, open_stage_store(config, cache_dir), executor=executor,
                     ledger=JournaledLedger(run_dir / JOURNAL), recovered_calls=recovered)
        env.ledger.clear()  # its rows, if any, were just imported
        env.answered = answered_calls(rundb)
        for node in graph.order:
            if isinstance(node, Loop):
                run_loop(node, env)
            else:
                run_stage(node, None, env)
    except (ConfigError, StageError) as e:
        status, error = "failed", str(e)
        log.error(error)
    except KeyboardInterrupt:
        status, error = "failed", "interrupted"
        log.error("interrupted; finished stages are kept, rerun the same command to resume")
    except Exception as e:  # a bug in the engine or a backend: still a summary, still every finished table
        status, error = "failed", f"internal error: {type(e).__name__}: {e}"
        log.exception("internal error")
    finally:
        if env is not None:
            env.rundb.release()
            flush_ledger(env)
            with env.rundb.connect() as con:  # exports of every finished stage, computed or reused
                products.publish(con, run_dir)
            env.ledger.close()
            env.ledger_all = whole_account(env.rundb)
            if env.sandbox is not None:
                env.sandbox.close()
            env.executor.close()
    return finish_report(name, status, error, env, run_dir, time.perf_counter() - started)


def open_stage_store(config: RunConfig, cache_dir: Path):
    if not config.store.reuse:
        return None
    if config.store.kind == "ducklake":  # many writers on many machines (DuckLake, PostgreSQL catalog)
        from engine.ducklake_store import DuckLakeStore

        return DuckLakeStore(config.store, cache_dir)
    return StageStore(cache_dir / "stages")


def run_loop(loop: Loop, env: RunEnv) -> None:
    for i in range(loop.spec.max_iterations):
        for stage in loop.stages:
            run_stage(stage, i, env)
        env.iterations[loop.name] = i + 1
        if loop.spec.until is not None and until_met(loop, i, env):
            log.info("loop %s: stop condition met after iteration %d", loop.name, i)
            break
    with env.rundb.connect() as con:
        for stage in loop.stages:  # a rerun that stops earlier must not leave later iterations behind
            RunDB.drop_iterations_from(con, stage.name, env.iterations[loop.name])


def until_met(loop: Loop, iteration: int, env: RunEnv) -> bool:
    """Evaluate the stop condition over the loop's tables as they stand after `iteration` (a rerun in the same
    run directory may hold later iterations from before; the condition must not see them)."""
    until = loop.spec.until
    with env.rundb.connect() as con:
        db = mat.db_name(con)
        for s in loop.stages:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {s.name} AS "
                        f"SELECT * FROM {db}.main.{s.name} WHERE iteration <= {iteration}")
        try:
            if until.sql:
                con.execute(f"SET VARIABLE iteration = {iteration}")
                row = con.execute(until.sql).fetchone()
                return bool(row and row[0])
            tables = {s.name: mat.read_rows(con, f"SELECT * FROM {s.name}") for s in loop.stages}
        except Exception as e:
            raise StageError(loop.name, f"loop stop condition failed: {str(e).splitlines()[0]}") from e
        finally:
            mat.drop_temp_objects(con)
            con.execute("RESET VARIABLE iteration")
    wanted = inspect.signature(loop.until_func).parameters
    kwargs = {n: tables[n] for n in wanted if n in tables}
    if "iteration" in wanted:
        kwargs["iteration"] = iteration
    if "params" in wanted:
        kwargs["params"] = until.params
    return bool(loop.until_func(**kwargs))


def run_stage(stage: Stage, iteration: int | None, env: RunEnv) -> None:
    fingerprint = stage_fingerprint(stage, iteration, env)
    env.fingerprints[(stage.name, iteration)] = fingerprint
    t0 = time.perf_counter()
    env.rundb.hold()  # released by a Python stage before it calls its function
    with env.rundb.connect() as con:
        record = RunDB.slice_record(con, stage.name, iteration)
        if record and record[0] == fingerprint:
            return note(env, stage, record[1], time.perf_counter() - t0, reused=True)
        # also when there is no record: a run killed between writing a slice and recording it left it behind
        RunDB.drop_slice(con, stage.name, iteration)
    # SQL stages too: one reused from the store is a view of its Parquet, far cheaper than recomputing it
    store = env.store if stage.spec.store else None
    if store is not None and stage.kind not in ("sql", "source"):
        env.rundb.release()  # the lock may wait on another sweep job's model calls: leave the file readable
    with store.lock(fingerprint) if store else nullcontext():  # parallel sweep jobs compute a stage once
        stored = store.get(fingerprint) if store else None
        if stored is not None:
            with env.rundb.connect() as con:
                stats = mat.load_stored(con, stage, iteration, fingerprint, stored)
            return note(env, stage, stats, time.perf_counter() - t0, reused=True)
        label = stage.name if iteration is None else f"{stage.name}[{iteration}]"
        log.info("running %s (%s)", label, stage.kind)
        products.clear_staging(env.run_dir, stage.name, iteration)
        stats = compute(stage, iteration, fingerprint, env, store)
        note(env, stage, stats, time.perf_counter() - t0, reused=False)


def note(env: RunEnv, stage: Stage, stats: dict, seconds: float, reused: bool) -> None:
    total = env.stage_stats.setdefault(
        stage.name, {"rows_in": 0, "rows_out": 0, "rejected": {}, "errors": 0, "seconds": 0.0, "reused": True})
    total["rows_in"] += stats["rows_in"]
    total["rows_out"] += stats["rows_out"]
    for reason, n in stats["rejected"].items():
        total["rejected"][reason] = total["rejected"].get(reason, 0) + n
    total["errors"] += stats["errors"]
    for counter in ("failed_calls", "retried_calls", "healed_calls"):
        if stats.get(counter) or counter in total:
            total[counter] = total.get(counter, 0) + stats.get(counter, 0)
    total["seconds"] = round(total["seconds"] + seconds, 3)
    total["reused"] = total["reused"] and reused


def stage_fingerprint(stage: Stage, iteration: int | None, env: RunEnv) -> str:
    cfg = env.config
    payload = {
        "engine": ENGINE_VERSION,
        "stage": stage.name,
        "kind": stage.kind,
        "code": stage.code_hash,
        "version": stage.spec.version,
        "params": params_for_fingerprint(stage.params),
        "inputs": {ref.alias: input_fingerprint(ref, iteration, env) for ref in stage.inputs},
        "llm": {role: llm_fingerprint(stage, env.role_config(role)) for role in stage.spec.llm},
        "sandbox": _semantic(dict(cfg.sandbox)) if stage.spec.sandbox else None,
        "seed": cfg.seed,
        "iteration": iteration,
    }
    if stage.spec.shard is not None:  # chunks seed ctx.rng; unsharded stages keep the fingerprint they had
        payload["shard"] = stage.spec.shard.model_dump()
    return sha256(json.dumps(payload, sort_keys=True, default=str))


def llm_fingerprint(stage: Stage, role_cfg: dict) -> Any:
    """A role's result-relevant config; on the sim backend also the code of the experiment's sim teacher,
    since that code is the model."""
    if role_cfg.get("backend", "sim") != "sim":
        return {**_semantic(role_cfg), "endpoint": endpoint_of(role_cfg)}
    from engine.llm.sim_backend import sim_code_hash

    experiment = stage.func.__module__.split(".")[1] if stage.func.__module__.startswith("stages.") else "generic"
    return {"config": _semantic(role_cfg), "sim_code": sim_code_hash(experiment)}


def endpoint_of(role_cfg: dict) -> str | None:
    """Which server answers a role (openai: endpoint_id or the normalised base_url), as in the cache key."""
    if role_cfg.get("backend") != "openai":
        return None
    from engine.llm.config import load_config
    from engine.llm.openai_backend import endpoint_identity

    return endpoint_identity(load_config(role_cfg))


def input_fingerprint(ref: InputRef, iteration: int | None, env: RunEnv) -> str:
    fps = env.fingerprints
    loop = env.graph.stages[ref.stage].loop
    if ref.scope == "current":
        return fps[(ref.stage, iteration)]
    if ref.scope == "prev":
        if iteration == 0:
            start = _init_map(env.graph.stages[ref.stage], env).get(ref.stage)
            return fps[(start, None)] if start else "empty"
        return fps[(ref.stage, iteration - 1)]
    if ref.scope == "history":
        return sha256(",".join(fps[(ref.stage, j)] for j in range(iteration)))
    if loop is None:
        return fps[(ref.stage, None)]
    done = env.iterations[loop]
    if ref.scope == "last":
        return fps[(ref.stage, done - 1)]
    return sha256(",".join(fps[(ref.stage, j)] for j in range(done)))


# ---------------------------------------------------------------------------------------------- computing


def _duplicate_error(stage: Stage):
    return lambda row_id: StageError(
        stage.name, f"row id {row_id!r} appears twice in the output; a pass-through row was returned twice, "
        "or two new rows carry the same 'id'")


def _init_map(stage: Stage, env: RunEnv) -> dict[str, str]:
    return env.config.stages[stage.loop].loop.init if stage.loop else {}


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
                select = mat.input_sql(con, ref, iteration, _init_map(stage, env))
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
            raise StageError(stage.name, f"SQL error in {where}: {str(e).splitlines()[0]}") from e
        finally:  # the connection may serve the next stage: none of this stage's names may linger
            mat.drop_temp_objects(con)
            for name in stage.params or {}:
                con.execute(f"RESET VARIABLE {name}")


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
        inputs = {ref.alias: mat.read_rows(con, mat.input_sql(con, ref, iteration, _init_map(stage, env)))
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
            output = env.executor.call_sharded(stage, iteration, inputs, ctx, env)
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
        if kept_table is None and rejected_table is None and (schema := declared_schema(stage.func)) is not None:
            mat.create_from_arrow(con, mat.OUT, schema.empty_table())
        elif kept_table is None and rejected_table is not None:
            # everything was rejected: the empty table still gets the rows' columns, so later SQL binds
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


def call_outcomes(calls: list[dict]) -> tuple[set[str], int, int]:
    """From a stage's ledger rows: the keys of requests whose final outcome is a transient failure, and how many
    requests that had failed in an earlier run were sent again, and answered."""
    answered = {r["key"] for r in calls if r["ok"] or r.get("reason") in FINAL_FAILURES}
    failed = {r["key"] for r in calls if r.get("reason") == TRANSIENT} - answered
    retried = {r["key"] for r in calls if r.get("retried_failure")}
    return failed, len(retried), len(retried & answered)


def _where(e: BaseException) -> str:
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
            raise StageError(stage.name, f"{type(e).__name__}: {e} ({_where(e)})") from e
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


def ledger_table(rows: list[dict], what: str):
    return to_arrow([{k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows],
                    what)


def append_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Add ledger-like rows (dicts, nested values as JSON) to `table`, creating it on first use."""
    if rows:
        con.register("__arrow", ledger_table(rows, table))
        RunDB.append(con, table, "SELECT * FROM __arrow")
        con.unregister("__arrow")


def recover_journal(rundb: RunDB, run_dir: Path) -> int:
    """Import the ledger rows a killed earlier run left in its journal; their number."""
    rows = leftover_rows(run_dir / JOURNAL)
    if not rows:
        return 0
    with rundb.connect() as con:
        rows = not_yet_written(con, rows, RunDB.tables(con))
        append_rows(con, "llm_calls", rows)
    if rows:
        log.warning("%d model calls of an earlier run killed mid-stage were recovered into llm_calls", len(rows))
    return len(rows)


def answered_calls(rundb: RunDB) -> set[tuple[str, str]]:
    """(stage, key) of every request this run directory has an answer for: a resumed stage does not count them
    again when the cache answers them."""
    with rundb.connect() as con:
        if "llm_calls" not in RunDB.tables(con):
            return set()
        return set(con.execute("SELECT DISTINCT stage, key FROM llm_calls WHERE ok").fetchall())


def whole_account(rundb: RunDB) -> list[dict]:
    """Every model call of this run directory, from every process that worked on it (resumes, sweep jobs,
    shards): the summary's account is computed from this, never from one process's memory."""
    with rundb.connect() as con:
        if "llm_calls" not in RunDB.tables(con):
            return []
        return con.execute("SELECT * FROM llm_calls").to_arrow_table().to_pylist()


def flush_ledger(env: RunEnv) -> None:
    """Write model calls and simulated ground truth to run.duckdb as soon as a stage ends (or fails):
    a paid call is never lost from the accounts."""
    if not env.ledger and not env.truth:
        return
    with env.rundb.connect() as con:
        append_rows(con, "llm_calls", env.ledger)
        append_rows(con, "sim_truth", env.truth)
    env.ledger.clear()
    env.truth.clear()


def add_sandbox_stats(env: RunEnv, before: dict) -> None:
    if env.sandbox is None:
        return
    for k, v in env.sandbox.stats.items():
        if isinstance(v, (int, float)):
            env.sandbox_totals[k] = env.sandbox_totals.get(k, 0) + v - before.get(k, 0)
