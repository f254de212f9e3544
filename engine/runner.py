"""The runner: config -> checked graph -> each stage computed or reused -> tables, summary, funnel.

Read top to bottom: `run` walks the graph; `run_loop` repeats a loop's stages until its condition; `run_stage`
decides between reusing a finished slice and computing it. Beside it, one concern a module: the run's state and
account (engine.run_env), fingerprints (engine.fingerprint), computing a slice (engine.compute), calling a stage's
function (engine.calling), where shards run (engine.executor), the end of the run (engine.report).
"""

from __future__ import annotations

import inspect
import logging
import time
from contextlib import nullcontext
from pathlib import Path

from omegaconf import DictConfig

from engine import products
from engine.calling import where_raised
from engine.compute import compute
from engine.config import ConfigError
from engine.context import StageError
from engine.fingerprint import stage_fingerprint
from engine.graph import Loop, Stage
from engine.ledger_journal import JOURNAL, JournaledLedger
from engine.preflight import check, check_writable, make_executor_checked, open_stage_store_checked, until_params
from engine.report import finish_report
from engine.run_env import RunEnv, answered_calls, flush_ledger, recover_journal, whole_account
from engine.store import RunDB
from engine.store import materialise as mat

log = logging.getLogger("engine")


def run(cfg: DictConfig | dict, run_dir: Path) -> dict:
    """Run one experiment into `run_dir`; never raises for a stage or config failure: the summary says. The one
    exception: a ConfigError when `run_dir` cannot be written, as there is then no place for the summary."""
    check_writable(run_dir, "hydra.run.dir")
    started = time.perf_counter()
    # matplotlib (for the funnel plot) is imported when the plot is drawn, not in a thread meanwhile: its import
    # calls ast.parse (inspect.signature), and on CPython 3.11 two threads in ast.parse at once share one recursion
    # counter and fail with "SystemError: AST constructor recursion depth mismatch" (cpython#106905), as
    # engine.code_version's ast.parse did, now and then, beside it
    env: RunEnv | None = None
    name = (cfg.get("name") if hasattr(cfg, "get") else None) or "unknown"
    status, error = "ok", None
    try:
        config, graph = check(cfg)
        store = open_stage_store_checked(config)
        executor = make_executor_checked(config)
        rundb = RunDB(run_dir / "run.duckdb")
        recovered = recover_journal(rundb, run_dir)
        env = RunEnv(config, graph, run_dir, rundb, store, executor=executor,
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
        status, error = "failed", f"internal error: {type(e).__name__}: {e} ({where_raised(e)})"
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
        kwargs["params"] = until_params(loop)
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
