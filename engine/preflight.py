"""The preflight: everything about a run that can be wrong before its first stage, found in seconds and before
the first model call is paid for. Config and graph (engine.config, engine.graph), then what they point at: source
files parse completely, the cache directory takes files, the sandbox starts a worker with its limits, each model
role's backend has its package and its key, and each OpenAI-compatible endpoint answers. Every mistake is a
ConfigError at the key the user typed.
"""

from __future__ import annotations

import codecs
import inspect
import json
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from pydantic import BaseModel, ValidationError

from engine.compute import source_select
from engine.config import PROJECT_ROOT, ConfigError, RunConfig, in_user_terms, load, validation_error
from engine.config_keys import did_you_mean
from engine.executor import check_shards, load_executor_config, make_executor
from engine.graph import Graph, Loop, build, import_callable, resolve_path
from engine.preflight_endpoints import check_endpoints
from engine.preflight_roles import check_model_roles, check_sim_settings


def check(cfg: DictConfig | dict) -> tuple[RunConfig, Graph]:
    """The validated config and its checked graph, or a ConfigError naming the key the user typed."""
    try:
        config = load(cfg)
        graph = build(config)
        load_executor_config(config)
        check_shards(graph)
        check_loops(graph)
        if config.report:  # otherwise found at the end of the run, as a summary without the experiment's sections
            import_callable(config.report, "report")
        check_sim_settings(config)
        check_model_roles(config, graph)
        check_sources(graph)
        check_param_files(graph)
        check_cache_dir(config)
        check_sandbox(config, graph)
        if config.check_endpoints:
            check_endpoints(config, graph)
    except ConfigError as e:
        raise in_user_terms(e, cfg) from None
    return config, graph


# ---------------------------------------------------------------------------------------------- loops

T = TypeVar("T")
RUN_TABLES = {"llm_calls"}  # the run's own tables a stop condition may read (e.g. to stop at a budget)


def check_loops(graph: Graph) -> None:
    """A loop's stop condition reads its own stages: the runner gives it their tables as they stand after each
    iteration (a SQL condition may also read stages run before the loop; a function gets only the loop's
    tables, `iteration` and `params`). Anything else fails only after the first iteration has been paid for."""
    before: set[str] = set()  # stages finished when the loop starts
    for node in graph.order:
        if not isinstance(node, Loop):
            before.add(node.name)
            continue
        own = [s.name for s in node.stages]
        until = node.spec.until
        if until is not None and until.sql:
            _check_until_sql(until.sql, own, before, f"{node.key}.loop.until.sql")
        if until is not None and until.fn:
            _check_until_fn(node, own, f"{node.key}.loop.until")
        before.update(own)


def _check_until_sql(sql: str, own: list[str], before: set[str], key: str) -> None:
    tables = {t.lower() for t in duckdb.get_table_names(sql)}
    mine = {*own, *(f"{name}__rejected" for name in own)}
    readable = mine | before | {f"{name}__rejected" for name in before} | RUN_TABLES
    for table in sorted(tables - readable):
        raise ConfigError(key, f"reads {table!r}, which is no stage of this loop nor one run before it; "
                               f"{did_you_mean(table, own)}")
    if tables and not tables & mine:
        raise ConfigError(key, f"reads none of the loop's stages ({', '.join(own)}): its answer would never change "
                               "from one iteration to the next")


def _check_until_fn(loop: Loop, own: list[str], key: str) -> None:
    given = [*own, "iteration", "params"]
    wanted = inspect.signature(loop.until_func).parameters
    for name, parameter in wanted.items():
        if name not in given and parameter.default is inspect.Parameter.empty:
            hint = did_you_mean(name, given)
            raise ConfigError(f"{key}.fn", f"{loop.spec.until.fn} takes {name!r}, which is no stage of this loop "
                                           f"(it gets {', '.join(given)})"
                                           + (f"; {hint}" if hint.startswith("did you mean") else ""))
    if loop.spec.until.params and "params" not in wanted:
        raise ConfigError(f"{key}.params", f"{loop.spec.until.fn} takes no 'params' argument but params were given")
    if not any(name in own for name in wanted):
        raise ConfigError(f"{key}.fn", f"{loop.spec.until.fn} reads none of the loop's stages ({', '.join(own)}): "
                                       "its answer would never change from one iteration to the next")
    until_params(loop)


def until_params(loop: Loop) -> Any:
    """A stop condition's params, validated against its function's `params` model when it declares one (as a
    stage's are): a bad value is found before the first iteration, not after it."""
    model = typing.get_type_hints(loop.until_func).get("params")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return dict(loop.spec.until.params)
    try:
        return model.model_validate(loop.spec.until.params)
    except ValidationError as e:
        raise validation_error(e, f"{loop.key}.loop.until.params", model) from None


# ---------------------------------------------------------------------------------------------- sources


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


FILE_SUFFIXES = (".txt", ".md", ".jinja", ".json", ".jsonl", ".csv", ".parquet", ".sql", ".yaml")


def check_param_files(graph: Graph) -> None:
    """A stage parameter naming a file (a prompt template, a data file) names one that exists, whether the
    stage reads it when it runs or not: the fingerprint already reads such a value as a file's content
    (engine.graph.params_for_fingerprint), so a missing one would otherwise fail only at the stage, paid for
    up to there."""
    def visit(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                visit(inner, f"{key}.{name}")
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                visit(inner, f"{key}[{i}]")
        elif (isinstance(value, str) and len(value) < 300 and not any(c.isspace() for c in value)
              and Path(value).suffix in FILE_SUFFIXES
              and not (resolve_path(value).is_file() or Path(value).is_file())):
            raise ConfigError(key, f"file not found: {value}")

    for stage in graph.stages.values():
        visit(stage.spec.params, f"{stage.key}.params")


def check_sources(graph: Graph) -> None:
    for stage in graph.stages.values():
        if stage.kind == "source":
            check_source_file(stage.source_path, f"{stage.key}.source")


def check_source_file(path: Path, key: str) -> None:
    """The whole file reads as its format says, and holds at least one row."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(key, f"cannot read {_shown(path)}: {e.strerror}") from None
    if path.suffix in (".csv", ".parquet"):
        return _check_with_duckdb(path, key)
    if data.startswith(codecs.BOM_UTF8) and path.suffix in (".jsonl", ".json"):
        raise ConfigError(key, f"{_shown(path)} starts with a byte order mark (BOM), which the JSON reader refuses; "
                               "save the file as UTF-8 without BOM")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError(key, f"{_shown(path)} line {line}: not UTF-8 (byte 0x{data[e.start]:02x} at column "
                               f"{column}); save the file as UTF-8") from None
    if path.suffix == ".txt":
        rows = sum(1 for line in text.splitlines() if line.strip())
    elif path.suffix == ".jsonl":
        rows = _jsonl_rows(text, path, key)
    else:
        rows = _json_rows(text, path, key)
    if rows == 0:
        raise ConfigError(key, f"{_shown(path)} has no rows: it is empty or holds only blank lines")


def _jsonl_rows(text: str, path: Path, key: str) -> int:
    rows = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(key, f"{_shown(path)} line {number}: not valid JSON ({e.msg}: column {e.colno})") \
                from None
        if not isinstance(value, dict):
            raise ConfigError(key, f"{_shown(path)} line {number}: expected a JSON object, found "
                                   f"{type(value).__name__}")
        rows += 1
    return rows


def _json_rows(text: str, path: Path, key: str) -> int:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(key, f"{_shown(path)} line {e.lineno}: not valid JSON ({e.msg}: column {e.colno})") \
            from None
    if isinstance(value, dict):
        return 1
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(key, f"{_shown(path)}: expected a JSON object or a list of objects")
    return len(value)


def _check_with_duckdb(path: Path, key: str) -> None:
    import duckdb

    try:
        (rows,) = duckdb.sql(f"SELECT count(*) FROM ({source_select(path)})").fetchone()
    except duckdb.Error as e:
        raise ConfigError(key, f"{_shown(path)} does not read: {str(e).splitlines()[0]}") from None
    if rows == 0:
        raise ConfigError(key, f"{_shown(path)} has no rows")


# ---------------------------------------------------------------------------------------------- directories, sandbox


def check_writable(path: Path, key: str) -> None:
    """`path` is (or can be made) a directory a file can be written in."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigError(key, f"cannot write to {path}: {e.strerror or e}") from None


def check_cache_dir(config: RunConfig) -> None:
    cache_dir = resolve_path(config.cache_dir)
    check_writable(cache_dir, "cache_dir")
    check_writable(cache_dir / "stages", "cache_dir")


def check_sandbox(config: RunConfig, graph: Graph) -> None:
    """A worker starts with the configured limits and runs a trivial job, when a stage uses the sandbox."""
    if not any(stage.spec.sandbox for stage in graph.stages.values()):
        return
    from engine.sandbox import Job, Sandbox

    settings: dict[str, Any] = {**config.sandbox, "workers": 1, "cache": "off"}
    try:
        sandbox = Sandbox(**settings)
    except ValueError as e:  # its messages start with the key: "sandbox.memory_mb: expected ..."
        key, _, message = str(e).partition(": ")
        raise ConfigError(key if key.startswith("sandbox.") else "sandbox", message or str(e)) from None
    with sandbox:
        (outcome,) = sandbox.run([Job(source="def evaluate():\n    return True\n", entry="evaluate")])
    if outcome.status != "ok":
        key = {"memory": "sandbox.memory_mb", "timeout": "sandbox.timeout_s"}.get(outcome.status, "sandbox")
        raise ConfigError(key, f"a sandbox worker with these limits cannot run a trivial job: {outcome.status}: "
                               f"{outcome.message}")


def connected(open_it: Callable[[], T], key: str, what: str) -> T:
    """`open_it()`, which connects to something the config names (a Ray cluster, a DuckLake catalog): an address
    that does not answer or a client package that is missing is the user's to fix, at `key`."""
    try:
        return open_it()
    except (duckdb.Error, OSError, ValueError, RuntimeError) as e:  # what DuckDB, psycopg and Ray raise for these
        raise ConfigError(key, f"cannot {what}: {str(e).strip().splitlines()[0]}") from None


def open_stage_store_checked(config: RunConfig):
    """The run's stage store (engine.run_env.open_stage_store), its catalog's failure a ConfigError."""
    from engine.run_env import open_stage_store

    return connected(lambda: open_stage_store(config, resolve_path(config.cache_dir)), "store.catalog",
                     "open the DuckLake stage store")


def make_executor_checked(config: RunConfig):
    """The run's executor (engine.executor.make_executor), a cluster that does not answer a ConfigError."""
    return connected(lambda: make_executor(config), "executor.address", "connect to the Ray cluster")


class RunDirWritable(Callback):
    """Hydra creates the run (or sweep) directory before the run starts, with a traceback when it cannot: check
    it first and say which setting to change."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.run.dir, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.sweep.dir, "hydra.sweep.dir")

    @staticmethod
    def _check(directory: str, key: str) -> None:
        import sys

        try:
            check_writable(resolve_path(directory), key)
        except ConfigError as e:
            print(e, file=sys.stderr)
            sys.exit(1)
