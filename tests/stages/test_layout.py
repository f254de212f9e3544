"""The layout (README, "Layout"): a stage folder holds stages only. Every module in stages/<experiment>/ is a stage
its experiment's graph names (`fn`, `map`, `filter`, a loop's `until`), and every function a graph names as a
stage is in stages/<experiment>/; what stages share is in helpers/, what is read after a run in reports/, the
simulated teacher in sims/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from engine.config import PROJECT_ROOT

EXPERIMENTS = sorted(p.stem for p in (PROJECT_ROOT / "conf/experiment").glob("*.yaml"))
STAGE_KEYS = ("fn", "map", "filter")


def _named_stages(node: object, in_params: bool = False) -> set[str]:
    """The modules a graph names as stages or loop conditions (not functions passed in a stage's params)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in STAGE_KEYS and isinstance(value, str) and not in_params:
                found.add(value.partition(":")[0])
            else:
                found |= _named_stages(value, in_params or key == "params")
    elif isinstance(node, list):
        for value in node:
            found |= _named_stages(value, in_params)
    return found


def _graph(experiment: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / f"conf/experiment/{experiment}.yaml").read_text())


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_a_stage_folder_holds_the_stages_its_graph_names_and_nothing_else(experiment):
    folder = PROJECT_ROOT / "stages" / experiment
    named = _named_stages(_graph(experiment)["stages"])
    assert named and all(m.startswith(f"stages.{experiment}.") for m in named), sorted(named)
    modules = {f"stages.{experiment}.{p.stem}" for p in folder.glob("*.py") if p.name != "__init__.py"}
    assert modules == named, f"not stages: {sorted(modules - named)}; named but missing: {sorted(named - modules)}"


@pytest.mark.parametrize("experiment", [e for e in EXPERIMENTS if "report" in _graph(e)])
def test_a_report_is_in_reports(experiment):
    assert _graph(experiment)["report"].startswith(f"reports.{experiment}.")


def test_no_other_stage_folders():
    folders = {p.name for p in (PROJECT_ROOT / "stages").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(EXPERIMENTS)


def test_the_packages_are_installed():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    for package in ("stages", "helpers", "reports", "sims"):
        assert f'"{package}*"' in pyproject, package
        assert Path(PROJECT_ROOT / package / "__init__.py").is_file(), package


def test_no_stage_or_helper_imports_a_sim():
    for path in [*(PROJECT_ROOT / "stages").rglob("*.py"), *(PROJECT_ROOT / "helpers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not [n for n in names if n == "sims" or n.startswith("sims.")], path
