"""Checks that every Python stage of an experiment states its grain and declares the row type its table has."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable
from pathlib import Path

import duckdb

from engine.graph import import_callable
from engine.rows import declared_schema, row_type
from tests.conftest import table

ENGINE_COLUMNS = {"id", "iteration"}  # the engine adds these to every (loop) table
PER_ROW_KINDS = ("map", "filter")  # their rows get parent_ids from the engine: the row each came from
# a column that held only nulls or empty lists in a run is stored as text: its declared type cannot be seen
UNTYPED = {"VARCHAR", "VARCHAR[]"}


def python_stages(stages: dict) -> dict[str, tuple[str, str]]:
    """{stage name: (kind, "module:function")} of every fn/map/filter stage, loops included."""
    found = {}
    for name, spec in stages.items():
        if "loop" in spec:
            found |= python_stages(spec["loop"]["stages"])
        for kind in ("fn", "map", "filter"):
            if kind in spec:
                found[name] = (kind, spec[kind])
    return found


def _duckdb_types(schema) -> dict[str, str]:
    con = duckdb.connect()
    con.register("declared", schema.empty_table())
    return dict(con.execute("select column_name, data_type from information_schema.columns "
                            "where table_name = 'declared'").fetchall())


def _optional_keys(func) -> set[str]:
    """The NotRequired keys of a stage's row type (read from the hints: with postponed annotations Python 3.11
    does not fill __optional_keys__)."""
    rows = row_type(func)
    return {k for k, h in typing.get_type_hints(rows, include_extras=True).items()
            if typing.get_origin(h) is typing.NotRequired}


def composed_stages(experiment: str) -> dict:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.config import PROJECT_ROOT

    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={experiment}"])
    return OmegaConf.to_container(cfg, resolve=True)["stages"]


def row_type_problems(run_dir: Path, experiment: str, passing_through: Iterable[str] = ()) -> dict[str, str]:
    """{stage: what is wrong} for each Python stage of the experiment whose docstring states no grain ("one row
    per ..."), that declares no row type, or whose table in the run has other columns than it declares (a stage
    the run did not reach is checked for the first two only); empty when all is well. A stage in `passing_through`
    keeps the columns of the rows it is given besides those it declares: only those are checked."""
    problems = {}
    for name, (kind, target) in python_stages(composed_stages(experiment)).items():
        func = import_callable(target, name)
        doc = f"{inspect.getmodule(func).__doc__ or ''} {func.__doc__ or ''}".lower()
        schema = declared_schema(func)
        if "row per" not in doc:
            problems[name] = "no grain in its docstring"
            continue
        if schema is None:
            problems[name] = "no row type (TypedDict SomeRow: fn -> list[SomeRow], map -> SomeRow, filter row: SomeRow)"
            continue
        actual = dict(table(run_dir, "select column_name, data_type from information_schema.columns "
                                     f"where table_name = '{name}'"))
        if not actual:
            continue  # not run with these settings
        optional = _optional_keys(func)
        declared = _duckdb_types(schema)
        engine_columns = ENGINE_COLUMNS | ({"parent_ids"} if kind in PER_ROW_KINDS else set())
        missing = [] if name in passing_through else sorted(set(actual) - engine_columns - set(declared))
        extra = sorted(set(declared) - set(actual) - optional)
        mistyped = sorted(f"{c} {declared[c]} (table: {t})" for c, t in actual.items()
                          if c in declared and t != declared[c] and t not in UNTYPED)
        if missing or extra or mistyped:
            problems[name] = f"undeclared {missing}, declared but absent {extra}, types {mistyped}"
    return problems
