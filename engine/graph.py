"""From a validated config to a checked stage graph: callables imported, inputs bound, params validated,
cycles found, an execution order fixed. Everything that can be wrong with a config is found here, before
the first row is computed or the first model call is paid for.

A Python stage's params model is validated with the context {"roles": {role: its model config}} for the model
roles the stage declares (`llm:`), so a validator can check a parameter against them: that a role a parameter
names is one the stage may call, or that a method needing a classifier has one."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ValidationError

from engine.code_version import code_version, import_root
from engine.config import PROJECT_ROOT, ConfigError, LoopSpec, RunConfig, StageSpec, role_config, validation_error

Scope = Literal["all", "current", "prev", "history", "last"]
RESERVED_TABLES = {"llm_calls", "sim_truth", "sandbox_calls", "_stages", "stage_files"}
SOURCE_FORMATS = (".jsonl", ".json", ".txt", ".csv", ".parquet")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
REF_RE = re.compile(r"^(?P<stage>[a-z][a-z0-9_]*)(@(?P<scope>prev|history|last))?$")


@dataclass(frozen=True)
class InputRef:
    alias: str  # the argument name (Python) or view name (SQL) the rows arrive under
    stage: str
    scope: Scope  # all rows / this iteration / previous iteration / earlier iterations / final iteration


@dataclass
class Stage:
    name: str
    spec: StageSpec
    key: str  # dotted config key, used in every error about this stage
    loop: str | None = None
    inputs: list[InputRef] = field(default_factory=list)
    func: Callable | None = None
    params: Any = None  # a validated pydantic model, or a plain dict
    code_hash: str = ""
    sql_text: str = ""
    source_path: Path | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass
class Loop:
    name: str
    spec: LoopSpec
    key: str
    stages: list[Stage] = field(default_factory=list)  # in execution order
    until_func: Callable | None = None


@dataclass
class Graph:
    order: list[Stage | Loop]
    stages: dict[str, Stage]  # every stage, loops' inner stages included


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def resolve_path(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else PROJECT_ROOT / p


def import_callable(target: str, key: str) -> Callable:
    module_name, sep, attr = target.partition(":")
    if not sep or not attr:
        raise ConfigError(key, f"expected 'package.module:function', found {target!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # an import error inside the module is still a config-time error
        raise ConfigError(key, f"cannot import module {module_name!r}: {type(e).__name__}: {e}") from e
    func = getattr(module, attr, None)
    if not callable(func):
        raise ConfigError(key, f"module {module_name!r} has no function {attr!r}")
    return func


def code_hash_of(func: Callable) -> str:
    """The version of the code behind `func`: its module and the project modules and files it depends on."""
    source_file = inspect.getsourcefile(func)
    if not source_file:
        return sha256(func.__qualname__)
    path = Path(source_file).resolve()
    return code_version([path], import_root(path, func.__module__))


def check_sql(sql: str, key: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise ConfigError(key, f"SQL does not parse: {str(e).splitlines()[0]}") from e
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ConfigError(key, "a SQL stage must be exactly one SELECT statement")


def _validate_params(stage: Stage, sig: inspect.Signature, roles: dict[str, dict]) -> Any:
    key = f"{stage.key}.params"
    if "params" not in sig.parameters:
        if stage.spec.params:
            raise ConfigError(key, f"{stage.spec.target} takes no 'params' argument but params were given")
        return {}
    hints = typing.get_type_hints(stage.func)
    model = hints.get("params")
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            return model.model_validate(stage.spec.params, context={"roles": roles})
        except ValidationError as e:
            raise validation_error(e, key, model) from e
    return dict(stage.spec.params)


def _bind_python(stage: Stage, roles: dict[str, dict]) -> None:
    key = f"{stage.key}.{stage.kind}"
    stage.func = import_callable(stage.spec.target, key)
    stage.code_hash = code_hash_of(stage.func)
    sig = inspect.signature(stage.func)
    names = [n for n in sig.parameters if n not in ("params", "ctx")]
    if stage.kind in ("map", "filter"):
        if len(stage.inputs) != 1:
            raise ConfigError(f"{stage.key}.inputs", f"a {stage.kind} stage takes exactly one input")
        if len(names) != 1:
            raise ConfigError(key, f"{stage.spec.target} must take one row argument (plus optional params, ctx)")
    else:
        aliases = [r.alias for r in stage.inputs]
        required = [n for n in names if sig.parameters[n].default is inspect.Parameter.empty]
        unknown_args = [n for n in required if n not in aliases]
        unused_inputs = [a for a in aliases if a not in names]
        if unknown_args or unused_inputs:
            raise ConfigError(
                f"{stage.key}.inputs",
                f"{stage.spec.target} takes ({', '.join(names)}) but the inputs bind ({', '.join(aliases)}); "
                "name each argument after its input, or map aliases with inputs: {arg: stage}",
            )
    stage.params = _validate_params(stage, sig, roles)


def _parse_inputs(stage: Stage, loop_of: dict[str, str | None]) -> None:
    raw = stage.spec.inputs
    pairs = list(raw.items()) if isinstance(raw, dict) else [(None, r) for r in raw]
    for i, (alias, ref) in enumerate(pairs):
        key = f"{stage.key}.inputs" + (f".{alias}" if alias else f"[{i}]")
        m = REF_RE.match(ref)
        if not m:
            raise ConfigError(key, f"expected 'stage', 'stage@prev', 'stage@history' or 'stage@last', found {ref!r}")
        name, suffix = m["stage"], m["scope"]
        if name not in loop_of:
            known = ", ".join(sorted(loop_of))
            raise ConfigError(key, f"unknown stage {name!r} (known stages: {known})")
        if name == stage.name and suffix not in ("prev", "history"):
            raise ConfigError(key, f"stage {name!r} cannot read its own output")
        same_loop = stage.loop is not None and loop_of[name] == stage.loop
        if suffix in ("prev", "history") and not same_loop:
            raise ConfigError(key, f"'{ref}' needs {name!r} to be in the same loop as {stage.name!r}")
        if suffix == "last" and (loop_of[name] is None or same_loop):
            raise ConfigError(key, f"'{ref}' needs {name!r} to be a stage of another, finished loop")
        scope: Scope = suffix or ("current" if same_loop else "all")
        default_alias = name if suffix is None else f"{name}_{suffix}"
        stage.inputs.append(InputRef(alias or default_alias, name, scope))
    aliases = [r.alias for r in stage.inputs]
    if len(set(aliases)) != len(aliases):
        raise ConfigError(f"{stage.key}.inputs", f"two inputs share one name: {aliases}")


def _prepare(stage: Stage, roles: dict[str, dict]) -> None:
    spec = stage.spec
    if stage.kind == "source":
        path = resolve_path(spec.source)
        if path.suffix not in SOURCE_FORMATS:
            raise ConfigError(f"{stage.key}.source", f"unsupported file type {path.suffix!r} ({SOURCE_FORMATS})")
        if not path.is_file():
            raise ConfigError(f"{stage.key}.source", f"file not found: {path}")
        if spec.inputs or spec.params:
            raise ConfigError(f"{stage.key}", "a source stage takes no inputs and no params")
        stage.source_path = path
        stage.code_hash = sha256(path.read_bytes())
    elif stage.kind == "sql":
        path = resolve_path(spec.sql)
        if not path.is_file():
            raise ConfigError(f"{stage.key}.sql", f"SQL file not found: {path}")
        stage.sql_text = path.read_text()
        check_sql(stage.sql_text, f"{stage.key}.sql")
        stage.code_hash = sha256(stage.sql_text)
        for name, value in spec.params.items():  # each becomes a DuckDB variable: getvariable('name')
            if not NAME_RE.match(name):
                raise ConfigError(f"{stage.key}.params.{name}", "SQL params are lower_snake_case names")
            if isinstance(value, dict):
                raise ConfigError(f"{stage.key}.params.{name}", "SQL params are scalars or lists")
        stage.params = dict(spec.params)
    else:
        _bind_python(stage, roles)


def _topological(names: list[str], deps: dict[str, set[str]], key: str) -> list[str]:
    """Order `names` so each comes after its deps; ties keep declaration order. Raise on a cycle."""
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == "done":
            return
        if state.get(n) == "active":
            cycle = path[path.index(n):] + [n]
            raise ConfigError(key, f"the stages form a cycle: {' -> '.join(cycle)}")
        state[n] = "active"
        for d in sorted(deps[n], key=names.index):
            visit(d, path + [n])
        state[n] = "done"
        done.append(n)

    for n in names:
        visit(n, [])
    return done


def _check_name(name: str, key: str) -> None:
    if not NAME_RE.match(name) or "__" in name:
        raise ConfigError(key, f"stage names are lower_snake_case SQL identifiers without '__', found {name!r}")
    if name in RESERVED_TABLES:
        raise ConfigError(key, f"{name!r} is a reserved table name")


def build(cfg: RunConfig) -> Graph:
    loop_of: dict[str, str | None] = {}
    stages: dict[str, Stage] = {}
    loops: dict[str, Loop] = {}
    for name, spec in cfg.stages.items():
        _check_name(name, f"stages.{name}")
        if spec.loop is None:
            loop_of[name] = None
            stages[name] = Stage(name, spec, f"stages.{name}")
            continue
        loop = loops[name] = Loop(name, spec.loop, f"stages.{name}")
        for inner_name, inner in spec.loop.stages.items():
            key = f"stages.{name}.loop.stages.{inner_name}"
            _check_name(inner_name, key)
            if inner.loop is not None:
                raise ConfigError(key, "loops cannot be nested")
            if inner_name in loop_of or inner_name in cfg.stages:
                raise ConfigError(key, f"stage name {inner_name!r} is used twice")
            loop_of[inner_name] = name
            stages[inner_name] = Stage(inner_name, inner, key, loop=name)

    for stage in stages.values():
        _parse_inputs(stage, loop_of)
        _prepare(stage, {role: role_config(cfg, role) for role in stage.spec.llm})
        for role in stage.spec.llm:
            if role not in cfg.roles:
                raise ConfigError(f"{stage.key}.llm", f"unknown role {role!r} (roles: {sorted(cfg.roles)})")

    for loop in loops.values():
        for inner, outer in loop.spec.init.items():
            if loop_of.get(inner) != loop.name:
                raise ConfigError(f"{loop.key}.loop.init", f"{inner!r} is not a stage of this loop")
            if outer not in loop_of or loop_of[outer] == loop.name:
                raise ConfigError(f"{loop.key}.loop.init.{inner}", f"{outer!r} is not a stage outside this loop")
        if loop.spec.until and loop.spec.until.fn:
            loop.until_func = import_callable(loop.spec.until.fn, f"{loop.key}.loop.until.fn")
        if loop.spec.until and loop.spec.until.sql:
            check_sql(loop.spec.until.sql, f"{loop.key}.loop.until.sql")
        inner_names = [n for n, lp in loop_of.items() if lp == loop.name]
        inner_deps = {
            n: {r.stage for r in stages[n].inputs if r.scope == "current"} for n in inner_names
        }
        loop.stages = [stages[n] for n in _topological(inner_names, inner_deps, f"{loop.key}.loop.stages")]

    # the top level: outer stages and whole loops, each a node
    def node_of(stage_name: str) -> str:
        return loop_of[stage_name] or stage_name

    top = list(cfg.stages)
    deps: dict[str, set[str]] = {n: set() for n in top}
    for stage in stages.values():
        me = node_of(stage.name)
        for ref in stage.inputs:
            if node_of(ref.stage) != me:
                deps[me].add(node_of(ref.stage))
    for loop in loops.values():
        deps[loop.name] |= {node_of(outer) for outer in loop.spec.init.values()}
    order = _topological(top, deps, "stages")
    return Graph([loops.get(n) or stages[n] for n in order], stages)


def params_for_fingerprint(params: Any) -> Any:
    """Params as data, with any value naming a project file (a prompt template) replaced by its content hash,
    so editing a template recomputes the stage like editing a number would."""
    data = params.model_dump(mode="json") if isinstance(params, BaseModel) else params

    def visit(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: visit(x) for k, x in v.items()}
        if isinstance(v, list):
            return [visit(x) for x in v]
        if isinstance(v, str) and len(v) < 300 and "\n" not in v:
            path = resolve_path(v)
            if path.suffix and path.is_file():
                return {"file": v, "sha256": sha256(path.read_bytes())}
        return v

    return json.loads(json.dumps(visit(data), sort_keys=True, default=str))
