"""The share of a real model's replies each stage's parser reads, with today's parsers and with the parsers as they
were before the real-reply work (issue 16): `python benchmarks/parse_rates.py [--before COMMIT]`.

The replies are the committed corpus recorded from SmolLM2-135M-Instruct (tests/data/real_replies/, README there).
The old parsers are not vendored: they are imported from git at run time, the project's packages (`engine`,
`stages`) served file by file from `git show COMMIT:PATH` while they load, so an old parser runs with the old
helpers it was written against; today's package is put back afterwards. "Read" is what the stage goes on with:

- prompt_opt.evaluate: `extract_letter` gives a letter (today: only a letter the reply commits to, so a reply
  listing the options is no longer read, as answer A, which the "before" figure counted);
- prompt_opt.propose: `clean_proposal` leaves a non-empty prompt;
- principle_examples.rewrite: `extract_rewrite` finds a rewrite;
- codegen_alignment.functions: the code `reply_code` takes from the reply parses as Python;
- codegen_alignment.test_sets: `split_asserts` yields at least one assert that `first_assert` parses;
- autoif.verifier: a verifier's code and cases come out (before: `verifier_samples.parse_sample`, the JSON object
  only; now `replies.verifier_reply`, also code from a fence or a bare `def` with cases from a list or asserts).

principle_examples.critique replies are not parsed (any non-empty critique goes on), so they are not counted.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.abc
import importlib.util
import json
import subprocess
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
REPLIES = ROOT / "tests" / "data" / "real_replies"
# the last commit before the first parser for real reply shapes (54e2ef6, engine/llm/parse.py's shared parsers)
BEFORE = "a12d18432cbcaa7f1c42c096bc594156c0d8b376"
MAX_CASE_CHARS = 2000  # test_sets' default max_case_chars


def _parses(code: str) -> bool:
    try:
        with warnings.catch_warnings():  # model code is full of invalid escapes ("\\{" in a regex)
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return bool(code.strip())


def _first_assert_parses(m: types.ModuleType, text: str) -> bool:
    return any(m.first_assert(p, MAX_CASE_CHARS) for p in m.split_asserts(text, continues_assert=False))


def _verifier_read(before: bool) -> Callable[[types.ModuleType, str], bool]:
    if before:
        return lambda m, t: m.parse_sample(t)[2] is None
    return lambda m, t: m.verifier_reply(t)[2] is None


# task -> (module of its parser before, module now, whether that parser reads a reply: before, now)
READERS: dict[str, tuple[str, str, Callable, Callable]] = {
    "prompt_opt.evaluate": ("stages.prompt_opt.evaluation", "helpers.prompt_opt.evaluation",
                            *[lambda m, t: m.extract_letter(t) is not None] * 2),
    "prompt_opt.propose": ("stages.prompt_opt.candidates", "stages.prompt_opt.candidates",
                           *[lambda m, t: bool(m.clean_proposal(t).strip())] * 2),
    "principle_examples.rewrite": ("stages.principle_examples.teaching", "helpers.principle_examples.teaching",
                                   *[lambda m, t: m.extract_rewrite(t) is not None] * 2),
    "codegen_alignment.functions": ("stages.codegen_alignment.programs", "helpers.codegen_alignment.programs",
                                    *[lambda m, t: _parses(m.reply_code(t))] * 2),
    "codegen_alignment.test_sets": ("stages.codegen_alignment.programs", "helpers.codegen_alignment.programs",
                                    *[_first_assert_parses] * 2),
    "autoif.verifier": ("stages.autoif.verifier_samples", "helpers.autoif.replies", _verifier_read(True),
                        _verifier_read(False)),
}
# the project's packages, then and now (the old tree has no helpers: the finder then finds none there)
PACKAGES = ("engine", "stages", "helpers")
# replies a parser must not read, by task: an evaluator's reply listing the options ("A) ...\nB) ...") commits to
# no answer; read, it counts as answer A (the "misread" column)
MUST_NOT_READ: dict[str, Callable[[str], bool]] = {
    "prompt_opt.evaluate": lambda t: t.startswith("A) ") and "\nB) " in t,
}


class GitTree(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the project's packages as they were at `commit`, each file read with `git show`."""

    def __init__(self, commit: str):
        self.commit = commit
        listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, *PACKAGES], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        self.files = set(listed.split())

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in PACKAGES:
            return None
        base = name.replace(".", "/")
        if f"{base}/__init__.py" in self.files:
            return importlib.util.spec_from_loader(name, self, origin=f"{base}/__init__.py", is_package=True)
        if f"{base}.py" in self.files:
            return importlib.util.spec_from_loader(name, self, origin=f"{base}.py")
        return None

    def exec_module(self, module):
        source = subprocess.run(["git", "show", f"{self.commit}:{module.__spec__.origin}"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        module.__file__ = str(ROOT / module.__spec__.origin)  # project-root lookups (Path(__file__)) still work
        exec(compile(source, f"{self.commit[:12]}:{module.__spec__.origin}", "exec"), module.__dict__)


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


@contextmanager
def old_packages(commit: str) -> Iterator[None]:
    """While open, `import engine...`/`stages...` loads them as they were at `commit`; today's modules are set aside
    and put back on leaving (the old modules stay usable: they hold what they imported)."""
    today = {k: sys.modules.pop(k) for k in list(sys.modules) if _ours(k)}
    finder = GitTree(commit)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if _ours(k)]:
            del sys.modules[k]
        sys.modules.update(today)


def parser_modules(before: str, task: str) -> tuple[types.ModuleType, types.ModuleType]:
    old_name, new_name, _, _ = READERS[task]
    with old_packages(before):
        old = importlib.import_module(old_name)
    return old, importlib.import_module(new_name)


def replies(task: str) -> list[str]:
    path = REPLIES / f"{task}.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line] if path.exists() else []


def rates(before: str) -> list[dict]:
    rows = []
    for task, (_, _, read_before, read_now) in READERS.items():
        texts = replies(task)
        if not texts:
            continue
        old, new = parser_modules(before, task)
        wrong = MUST_NOT_READ.get(task, lambda t: False)
        rows.append({"task": task, "replies": len(texts),
                     "before": sum(bool(read_before(old, t)) for t in texts),
                     "before_misread": sum(bool(read_before(old, t)) and wrong(t) for t in texts),
                     "after": sum(bool(read_now(new, t)) for t in texts),
                     "after_misread": sum(bool(read_now(new, t)) and wrong(t) for t in texts)})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| task | replies | read before (misread) | read now (misread) |", "| --- | ---: | ---: | ---: |"]
    for r in rows:
        n = r["replies"]
        lines.append(f"| {r['task']} | {n} | {r['before']} ({r['before'] / n:.0%}; {r['before_misread']}) | "
                     f"{r['after']} ({r['after'] / n:.0%}; {r['after_misread']}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the commit whose parsers are 'before' (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args()
    rows = rates(args.before)
    print(json.dumps(rows, indent=1) if args.json else table(rows))


if __name__ == "__main__":
    main()
