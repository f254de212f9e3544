"""The version of the code a stage's output depends on: its module, every project module it imports (found by
reading the import statements, transitively), the project files those modules name (a data file or template
spelled out in the code), and the versions of the third-party distributions they import.

Static on purpose: importing a module to see what it imports would run it. The analysis reads every import in a
module, also those inside functions (lazy imports are imports), but not those under `if TYPE_CHECKING:`, which
never run. `from package import name` follows a package's re-export to the module that defines `name`, so a stage
importing `Request` from `engine.llm` depends on engine/llm/types.py, not on the whole LLM layer.
Each file is parsed once per process (again only if it changed on disk).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.config import PROJECT_ROOT


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name ("" for `from . import x` at the top of a tree)
    names: tuple[str, ...]  # the names of `from module import a, b`; empty for `import module`


@dataclass(frozen=True)
class ModuleFacts:
    imports: tuple[Import, ...]
    bindings: dict[str, Import]  # top-level `from m import x as y`: y -> (m, (x,)), for following re-exports
    path_literals: tuple[str, ...]  # strings and `"a" / "b"` chains that may name a project file


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _string_chain(node: ast.expr) -> list[str] | None:
    """The string constants of `a / "x" / "y"` after its last non-constant part, or None when there are none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        right = _string_chain(node.right)
        if right is None:
            return None
        return (_string_chain(node.left) or []) + right
    return None


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base = package.split(".")[: len(package.split(".")) - level + 1] if package else []
    return ".".join([*base, module] if module else base)


def _parse(path: Path, package: str) -> ModuleFacts:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    imports: list[Import] = []
    bindings: dict[str, Import] = {}
    literals: list[str] = []

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, top)
            return
        if isinstance(node, ast.Import):
            imports.extend(Import(alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            module = _absolute(node.module, node.level, package)
            imports.append(Import(module, tuple(alias.name for alias in node.names)))
            if top:
                bindings.update({alias.asname or alias.name: Import(module, (alias.name,)) for alias in node.names})
        elif isinstance(node, ast.BinOp | ast.Constant) and (chain := _string_chain(node)):
            literals.append("/".join(chain))
        nested = top and isinstance(node, ast.Module)
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, True)
    return ModuleFacts(tuple(imports), bindings, tuple(literals))


@cache
def _facts(path: Path, package: str, mtime_ns: int, size: int) -> ModuleFacts:
    return _parse(path, package)


@cache
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stat_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def module_file(name: str, root: Path) -> Path | None:
    """The project file of dotted module `name` under `root`, or None (a third-party or stdlib module)."""
    if not name:
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path, root: Path) -> str:
    """The dotted package a project file belongs to (what its relative imports are relative to)."""
    if not path.is_relative_to(root):
        return ""
    return ".".join(path.relative_to(root).with_suffix("").parts[:-1])  # pkg/__init__.py and pkg/mod.py: pkg


class _Closure:
    def __init__(self, root: Path):
        self.root = root
        self.files: set[Path] = set()
        self.third_party: set[str] = set()

    def add_module_file(self, path: Path) -> None:
        if path in self.files:
            return
        self.files.add(path)
        facts = _facts(path, _package_of(path, self.root), *_stat_key(path))
        for imp in facts.imports:
            self.add_import(imp, depth=0)
        for literal in facts.path_literals:
            self.add_data_file(literal, path.parent)

    def add_import(self, imp: Import, depth: int) -> None:
        target = module_file(imp.module, self.root)
        if target is None:
            top = imp.module.partition(".")[0]
            if top and top not in sys.stdlib_module_names:
                self.third_party.add(top)
            return
        if target.name != "__init__.py" or not imp.names:
            self.add_module_file(target)
            return
        bindings = _facts(target, imp.module, *_stat_key(target)).bindings
        for name in imp.names:
            submodule = module_file(f"{imp.module}.{name}", self.root)
            if submodule is not None:
                self.add_module_file(submodule)
            elif name in bindings and depth < 10:  # a re-export: depend on where the name is defined
                self.add_import(bindings[name], depth + 1)
            else:  # defined in the package's __init__ itself
                self.add_module_file(target)

    def add_data_file(self, literal: str, module_dir: Path) -> None:
        # a folder and a file name ("prompts/judge.txt"): a bare name ("__init__.py") is rarely a file the code reads
        if "\n" in literal or len(literal) > 300 or "/" not in literal or "." not in Path(literal).name:
            return
        for base in (self.root, module_dir):
            candidate = base / literal
            if candidate.is_file() and candidate.is_relative_to(self.root):
                self.files.add(candidate)


def import_root(path: Path, module_name: str) -> Path:
    """The directory module `module_name` (whose file is `path`) is imported from: where its absolute imports of
    sibling modules resolve. The project root for the project's own stages."""
    depth = len(module_name.split(".")) - (path.name != "__init__.py")
    return path.parents[depth] if 0 <= depth < len(path.parents) else PROJECT_ROOT


def code_files(entries: list[Path], root: Path = PROJECT_ROOT) -> tuple[list[Path], list[str]]:
    """The project files the modules `entries` depend on (themselves included) and the third-party top-level
    modules they import."""
    closure = _Closure(root)
    for entry in entries:
        closure.add_module_file(entry)
    return sorted(closure.files), sorted(closure.third_party)


@cache
def _version_of(module: str) -> str:
    """"distribution==version" of the installed distribution(s) providing top-level `module`."""
    versions = []
    for dist in sorted(set(_packages_distributions().get(module, []))):
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ",".join(versions)


@cache
def _packages_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _shown(path: Path, root: Path) -> str:
    # relative to the project, so machines with the project in different places agree
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def code_version(entries: list[Path], root: Path = PROJECT_ROOT) -> str:
    files, third_party = code_files(entries, root)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{_shown(f, root)}\0{_digest(f, *_stat_key(f))}\n".encode())
    for module in third_party:
        digest.update(f"{module}\0{_version_of(module)}\n".encode())
    digest.update(f"python {sys.version_info.major}.{sys.version_info.minor}\n".encode())
    return digest.hexdigest()
