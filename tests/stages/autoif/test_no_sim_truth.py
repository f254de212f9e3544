"""The sim teacher is test equipment: no AutoIF stage may decide from its ground truth. Every stage of the
experiment's graph (its Python module and what that imports, its SQL) is read for a use of the truth table or of
the modules the sim answers from."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import yaml

from engine.config import PROJECT_ROOT


def _source(name: str) -> Path | None:
    """The file of module `name`; None for a package, or a name that is no module (an imported function)."""
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py") or spec.origin.endswith("__init__.py"):
        return None
    return Path(spec.origin)


PROJECT_PACKAGES = ("stages.", "sims.")


def _imports(module: str) -> set[str]:
    """The stages.* and sims.* modules (not packages) `module` is or imports, directly or through each other."""
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


def _graph() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "conf/experiment/autoif.yaml").read_text())["stages"]


def test_no_autoif_stage_reads_the_sim_truth_or_the_sims_knowledge():
    sim_only = _imports("sims.autoif.teacher") | {"stages.autoif.report"}
    assert "sims.autoif.constraint_space" in sim_only
    modules = {spec["fn"].partition(":")[0] for spec in _graph().values() if "fn" in spec}
    assert "stages.autoif.probes" in modules and len(modules) > 10
    for module in modules:
        closure = _imports(module)
        assert not closure & sim_only, f"{module} imports {sorted(closure & sim_only)}"
        for name in closure:
            assert not [t for t in _code_strings(_source(name)) if "sim_truth" in t], name
    sql = [spec["sql"] for spec in _graph().values() if "sql" in spec]
    assert "sql/autoif/constraints_probed.sql" in sql
    for path in sql:
        assert "sim_truth" not in (PROJECT_ROOT / path).read_text(), path
