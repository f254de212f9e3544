"""Test cases of program tasks: input/output pairs, parsed from replies, run and judged in the sandbox.

A program task's case is stored where a function task keeps its assert text, as the JSON text of
`{"input": ..., "output": ...}`; its id is the hash of that text like an assert's. `output` is null when the test
generator wrote only the input: its expected output then comes from the programs themselves, as the output most
of the programs in play print for that input (CodeT's dual agreement over I/O behaviour; AlphaCode clusters
programs the same way). Every program runs once per distinct input (the sandbox caches what it printed); each
case is then judged on that output.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from engine.context import Context
from engine.rows import Rejected
from engine.sandbox import ProgramJob, normalised_output
from engine.sandbox.judge import mismatch

LABELLED_BLOCK = re.compile(r"(?P<label>[^\n`]*)\n?```[^\n]*\n(?P<body>.*?)```", re.DOTALL)


def case_text(stdin: str, output: str | None) -> str:
    return json.dumps({"input": stdin, "output": output}, sort_keys=True)


def parse_case(text: str) -> tuple[str, str | None]:
    case = json.loads(text)
    return case["input"], case["output"]


def split_io_cases(reply: str, with_outputs: bool) -> list[str]:
    """Cases in a test reply: fenced blocks labelled "Input" (each followed by one labelled "Output" when outputs
    are asked for), as contest statements print examples. An input without its output is dropped."""
    blocks = [(m["label"].lower(), m["body"]) for m in LABELLED_BLOCK.finditer(reply)]
    cases, pending = [], None
    for label, body in blocks:
        if "input" in label:
            if pending is not None and not with_outputs:
                cases.append(case_text(pending, None))
            pending = body
        elif "output" in label and pending is not None and with_outputs:
            cases.append(case_text(pending, body))
            pending = None
    if pending is not None and not with_outputs:
        cases.append(case_text(pending, None))
    return cases


def is_trivial_case(text: str, public_tests: list[dict]) -> bool:
    """A case that tells nothing the statement did not: a blank input, or a copy of one of its examples."""
    stdin, _ = parse_case(text)
    return not stdin.strip() or any(normalised_output(stdin) == normalised_output(t["input"]) for t in public_tests)


def program_job(program: str, stdin: str, task: dict, expected: str | None = None) -> ProgramJob:
    """`program` on `stdin` under the task's limits (the sandbox caps them by its own)."""
    return ProgramJob(program, stdin, expected=expected, time_limit_s=task["time_limit_s"], memory_mb=task["memory_mb"])


def consensus_outputs(printed: dict[str, dict[str, str | None]], inputs: list[str]) -> dict[str, str | None]:
    """Per input, the (normalised) output printed by the most programs that ran to their end on it; ties go to the
    smaller text, so the choice does not depend on order. None when no program finished."""
    out = {}
    for stdin in inputs:
        votes = Counter(normalised_output(o[stdin]) for o in printed.values() if o.get(stdin) is not None)
        out[stdin] = min(votes, key=lambda text: (-votes[text], text)) if votes else None
    return out


def run_programs_on_cases(functions_by_task: dict[str, list[dict]], tests_by_task: dict[str, list[dict]],
                          tasks: dict[str, dict], float_tolerance: float | None,
                          ctx: Context) -> list[dict | Rejected]:
    """Each program on every distinct input of its task's case pool, one sandbox job per (program, input); a case
    passes when the program's output matches the case's expected output (or the programs' consensus output). A
    program that does not finish on an input fails that case only."""
    planned = []  # (task_id, func, case ids, cases, inputs)
    for task_id, funcs in functions_by_task.items():
        pool: dict[str, str] = {}
        for s in tests_by_task.get(task_id, []):
            pool.update((cid, text) for cid, text in zip(s["case_ids"], s["asserts"], strict=True) if cid not in pool)
        cases = [parse_case(text) for text in pool.values()]
        inputs = list(dict.fromkeys(stdin for stdin, _ in cases))
        planned += [(task_id, f, list(pool), cases, inputs) for f in funcs if pool]
    jobs = [program_job(f["program"], stdin, tasks[task_id])
            for task_id, f, _, _, inputs in planned for stdin in inputs]
    outcomes = iter(ctx.sandbox.run(jobs, desc="execute"))
    printed: dict[str, dict[str, dict[str, str | None]]] = {}  # task -> func -> input -> stdout (None: no verdict)
    statuses: dict[str, list[str]] = {}
    for task_id, f, _, _, inputs in planned:
        runs = [next(outcomes) for _ in inputs]
        printed.setdefault(task_id, {})[f["id"]] = {i: o.value if o.status == "ok" else None
                                                    for i, o in zip(inputs, runs, strict=True)}
        statuses[f["id"]] = [o.status for o in runs]
    consensus = {task_id: consensus_outputs(by_func, list(next(iter(by_func.values()))))
                 for task_id, by_func in printed.items()}
    out: list[dict | Rejected] = []
    for task_id, f, case_ids, cases, _ in planned:
        outputs = printed[task_id][f["id"]]
        row = {"parent_ids": [f["id"]], "function_id": f["id"], "task_id": task_id, "n_cases": len(case_ids),
               "passed_case_ids": [], "run_statuses": statuses[f["id"]]}
        if all(s in ("syntax", "forbidden") for s in statuses[f["id"]]):  # it never ran: nothing to compare
            out.append(Rejected(row, statuses[f["id"]][0], ""))
            continue
        passed = []
        for cid, (stdin, expected) in zip(case_ids, cases, strict=True):
            want = expected if expected is not None else consensus[task_id][stdin]
            got = outputs[stdin]
            if want is not None and got is not None and mismatch(want, got, float_tolerance) is None:
                passed.append(cid)
        out.append({**row, "passed_case_ids": passed, "n_passed": len(passed)})
    return out
