"""The sim teacher is test equipment: no stage of any experiment decides from it. Statically, no stage (its Python
module and what that imports, its SQL) imports a sim or names the `sim_truth` table; in a run, every stage table
is the same whether or not `sim_truth` exists (a second run whose sim truth is never written, so the table is
absent while its stages run)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import duckdb
import pytest
import yaml

from engine.config import PROJECT_ROOT
from engine.run_env import RunEnv
from tests.conftest import compose_and_run

EXPERIMENTS = ("autoif", "codegen_alignment", "principle_examples", "prompt_opt")
PROJECT_PACKAGES = ("stages.", "helpers.", "reports.", "sims.")
# the tables a run writes beside its stages' (the accounts; the truth itself)
NOT_STAGE_TABLES = {"llm_calls", "sim_truth"}


def _source(name: str) -> Path | None:
    """The file of module `name`; None for a package, or a name that is no module (an imported function)."""
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py") or spec.origin.endswith("__init__.py"):
        return None
    return Path(spec.origin)


def _imports(module: str) -> set[str]:
    """The project modules (not packages) `module` is or imports, directly or through each other."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if (path := _source(name)) is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PROJECT_PACKAGES):
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith(PROJECT_PACKAGES)]
    return {n for n in seen if _source(n) is not None}


def _code_strings(path: Path) -> list[str]:
    """The string literals of a module's code (table names a query could use), its docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings]


def _stage_code(node: object) -> tuple[set[str], set[str]]:
    """(Python modules, SQL files) named anywhere in a graph: stages, loop conditions, functions in params."""
    modules: set[str] = set()
    sql: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("fn", "map", "filter") and isinstance(value, str) and ":" in value:
                modules.add(value.partition(":")[0])
            elif key == "sql" and isinstance(value, str):
                sql.add(value)
            else:
                more = _stage_code(value)
                modules |= more[0]
                sql |= more[1]
    elif isinstance(node, list):
        for value in node:
            more = _stage_code(value)
            modules |= more[0]
            sql |= more[1]
    return modules, sql


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_no_stage_imports_a_sim_or_names_the_sim_truth(experiment):
    graph = yaml.safe_load((PROJECT_ROOT / f"conf/experiment/{experiment}.yaml").read_text())["stages"]
    modules, sql = _stage_code(graph)
    assert len(modules) >= 5 and sql, experiment
    for module in modules:
        closure = _imports(module)
        assert _source(module) is not None, f"{module} is no module"
        sims = sorted(n for n in closure if n.startswith("sims."))
        assert not sims, f"{module} imports {sims}"
        for name in closure:
            assert not [t for t in _code_strings(_source(name)) if "sim_truth" in t], name
    for path in sql:
        assert "sim_truth" not in (PROJECT_ROOT / path).read_text(), path


class _Discarded(list):
    """A truth sink that keeps nothing: the run then never writes a `sim_truth` table."""

    def append(self, item) -> None:
        pass

    def extend(self, items) -> None:
        pass


def _stage_tables(run_dir: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names if n not in NOT_STAGE_TABLES}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_stage_outputs_are_the_same_without_the_sim_truth_table(experiment, tmp_path, monkeypatch):
    recipe = [f"+tiny={experiment}"]
    first = compose_and_run(experiment, *recipe, run_dir=tmp_path / "with", cache_dir=tmp_path / "cache_with")
    assert first["status"] == "ok", first["error"]
    with_truth = _stage_tables(tmp_path / "with")
    with duckdb.connect(str(tmp_path / "with/run.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sim_truth").fetchone()[0] > 0

    init = RunEnv.__init__

    def without_truth(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.truth = _Discarded()

    monkeypatch.setattr(RunEnv, "__init__", without_truth)
    second = compose_and_run(experiment, *recipe, run_dir=tmp_path / "without", cache_dir=tmp_path / "cache_without")
    assert second["status"] == "ok", second["error"]
    assert [name for name, s in second["stages"].items() if s["reused"]] == []  # every stage ran again
    with duckdb.connect(str(tmp_path / "without/run.duckdb"), read_only=True) as con:
        tables = {n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "sim_truth" not in tables
    without = _stage_tables(tmp_path / "without")
    assert sum(bool(rows) for rows in with_truth.values()) >= 5
    assert without.keys() == with_truth.keys()
    for name, rows in with_truth.items():
        assert without[name] == rows, name
