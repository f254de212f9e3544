"""A stage's code version covers its module, the project modules it imports (transitively) and the project files
they name; editing a helper recomputes exactly the stages that import it, and what descends from them."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from engine.code_version import code_files, code_version
from engine.config import PROJECT_ROOT
from engine.llm.sim_backend import sim_code_entries
from engine.runner import run

_packages = itertools.count()


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def shown(files: list[Path], root: Path) -> set[str]:
    return {f.relative_to(root).as_posix() for f in files}


def test_imports_are_followed_transitively_and_third_party_modules_by_name(tmp_path):
    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/stage.py": "import json\nfrom pydantic import BaseModel\nfrom pkg.helper import f\n",
        "pkg/helper.py": "from . import deep\n",
        "pkg/deep.py": "X = 1\n",
        "pkg/unrelated.py": "Y = 2\n",
    })
    files, third_party = code_files([tmp_path / "pkg/stage.py"], tmp_path)
    assert shown(files, tmp_path) == {"pkg/stage.py", "pkg/helper.py", "pkg/deep.py"}
    assert third_party == ["pydantic"]  # json is the standard library


def test_a_name_imported_from_a_package_depends_on_the_module_that_defines_it(tmp_path):
    write_tree(tmp_path, {
        "pkg/__init__.py": "from pkg.types import Request\nfrom pkg.client import Client\n",
        "pkg/types.py": "class Request: ...\n",
        "pkg/client.py": "import pkg.types\n",
        "pkg/stage.py": "from pkg import Request\n",
    })
    files, _ = code_files([tmp_path / "pkg/stage.py"], tmp_path)
    assert shown(files, tmp_path) == {"pkg/stage.py", "pkg/types.py"}


def test_lazy_imports_count_and_type_checking_imports_do_not(tmp_path):
    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/stage.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from pkg.annotations_only import Thing

            def stage(row):
                from pkg.lazy import helper
                return helper(row)
        """,
        "pkg/annotations_only.py": "",
        "pkg/lazy.py": "",
    })
    files, _ = code_files([tmp_path / "pkg/stage.py"], tmp_path)
    assert shown(files, tmp_path) == {"pkg/stage.py", "pkg/lazy.py"}


def test_a_project_file_named_in_the_code_is_part_of_its_version(tmp_path):
    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/stage.py": 'ROOT = None\nTEMPLATE = ROOT / "data" / "template.txt"\nNOTE = "data/missing.txt"\n',
        "data/template.txt": "Answer: $x\n",
    })
    files, _ = code_files([tmp_path / "pkg/stage.py"], tmp_path)
    assert shown(files, tmp_path) == {"pkg/stage.py", "data/template.txt"}
    before = code_version([tmp_path / "pkg/stage.py"], tmp_path)
    (tmp_path / "data/template.txt").write_text("Reply: $x\n")
    assert code_version([tmp_path / "pkg/stage.py"], tmp_path) != before


def test_the_sim_teacher_is_its_own_code_not_its_experiment_package():
    files = shown(code_files(sim_code_entries("autoif"))[0], PROJECT_ROOT)
    assert {"engine/llm/sim_backend.py", "sims/autoif/teacher.py", "sims/autoif/catalogue.py"} <= files
    assert "reports/autoif/compare.py" not in files  # a command-line helper: editing it recomputes no model stage
    assert "stages/autoif/verifier_samples.py" not in files


@pytest.mark.parametrize("experiment", ["autoif", "codegen_alignment", "principle_examples", "prompt_opt"])
def test_a_sims_hash_covers_its_own_files_and_no_stage_or_report(experiment):
    """Editing a stage (or a report) changes no sim reply, so no model stage is recomputed for it; editing the sim
    changes its hash, which only the model stages it answers carry (engine.fingerprint)."""
    files = shown(code_files(sim_code_entries(experiment))[0], PROJECT_ROOT)
    assert f"sims/{experiment}/teacher.py" in files
    assert not [f for f in files if f.startswith(("stages/", "reports/"))], sorted(files)
    assert "helpers/codegen_alignment/programs.py" not in files  # the sandbox programs the stages run, not the sim's


@pytest.fixture
def helper_package(tmp_path, monkeypatch):
    """An importable package of stages: `one` uses helper_a, `two` uses helper_b, helper_c is used by none."""
    name = f"codever_pkg{next(_packages)}"
    root = tmp_path / "src"
    write_tree(root, {
        f"{name}/__init__.py": "",
        f"{name}/helper_a.py": "def bump(n):\n    return n + 1\n",
        f"{name}/helper_b.py": "def double(n):\n    return 2 * n\n",
        f"{name}/helper_c.py": "",
        f"{name}/one.py": f"from {name}.helper_a import bump\n\ndef one(row):\n    return {{'n': bump(row['n'])}}\n",
        f"{name}/two.py": f"from {name} import helper_b\n\n"
                          f"def two(row):\n    return {{'n': helper_b.double(row['n'])}}\n",
        f"{name}/three.py": "def three(row):\n    return {'n': row['n']}\n",
    })
    monkeypatch.syspath_prepend(str(root))
    return name, root / name


def helper_graph(make_config, numbers_file, name):
    return make_config({
        "numbers": {"source": str(numbers_file)},
        "one": {"map": f"{name}.one:one", "inputs": ["numbers"]},
        "two": {"map": f"{name}.two:two", "inputs": ["numbers"]},
        "three": {"map": f"{name}.three:three", "inputs": ["one"]},  # imports no helper, but descends from one
    })


def reused(summary: dict) -> dict[str, bool]:
    assert summary["status"] == "ok", summary["error"]
    return {stage: s["reused"] for stage, s in summary["stages"].items()}


def test_editing_a_helper_recomputes_the_stages_that_import_it_and_their_descendants(
        make_config, numbers_file, tmp_path, helper_package):
    name, package = helper_package
    cfg = helper_graph(make_config, numbers_file, name)
    run(cfg, tmp_path / "a")
    (package / "helper_a.py").write_text("def bump(n):\n    return n + 1  # same result, new code\n")
    assert reused(run(cfg, tmp_path / "a")) == {"numbers": True, "one": False, "two": True, "three": False}
    (package / "helper_b.py").write_text("def double(n):\n    return n * 2\n")
    assert reused(run(cfg, tmp_path / "b")) == {"numbers": True, "one": True, "two": False, "three": True}


def test_editing_a_helper_no_stage_imports_recomputes_nothing(make_config, numbers_file, tmp_path, helper_package):
    name, package = helper_package
    cfg = helper_graph(make_config, numbers_file, name)
    run(cfg, tmp_path / "a")
    (package / "helper_c.py").write_text("UNUSED = True\n")
    assert all(reused(run(cfg, tmp_path / "a")).values())
