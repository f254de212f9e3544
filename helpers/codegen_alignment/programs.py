"""Model replies as programs and test cases, and the sandbox programs that run them.

Model text is never compiled on the host: programs and test cases are checked in the sandbox (status
"syntax" or "forbidden"); the host only parses single, length-capped test cases that the sandbox already
accepted, to tell trivial ones apart (ast.parse builds a tree, it does not fold constants like compile).
"""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap

from engine.context import Context
from engine.llm.parse import code_in_prose, fenced_blocks, strip_think
from engine.sandbox import Job, Outcome
from helpers.codegen_alignment.io_cases import program_job

# CodeT's stop sequences: where a completion that continues a function body stops being that body
STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
RUN_CASES = "codegen_alignment_run_cases"
COMPILES = "codegen_alignment_compiles"
RUN_GROUND_TRUTH = "codegen_alignment_ground_truth"


def reply_code(reply: str) -> str:
    """The first python (or untagged) fenced block of a reply, else the code amid its prose ("Here is the
    function:\ndef f...\nThis function..."), else the reply itself (a completion continuing the prompt's body)."""
    reply = strip_think(reply)
    for tag, body in fenced_blocks(reply):
        if tag in ("python", "py", "python3", ""):
            return body
    if reply.startswith((" ", "\t")):
        return reply  # a completion continuing the prompt's function body
    return code_in_prose(reply) or reply


def function_program(reply: str, prompt: str, entry_point: str) -> str | None:
    """The program a function reply stands for: a reply defining `entry_point` follows the task prompt (whose
    imports and helpers it may use, and whose docstring-only stub it replaces); any other reply is a body
    that continues the prompt. None when there is no code at all."""
    code = reply_code(reply)
    if not code.strip():
        return None
    if re.search(rf"^def {re.escape(entry_point)}\s*\(", code, re.MULTILINE):
        return f"{prompt}\n\n{code.strip(chr(10))}\n"
    return prompt + code


def case_id(task_id: str, case: str) -> str:
    return hashlib.sha256(f"{task_id}\0{case}".encode()).hexdigest()[:16]


def _truncate(piece: str) -> str:
    for stop in STOP_SEQUENCES:
        piece = piece.split(stop)[0]
    return piece.strip()


def split_asserts(reply: str, continues_assert: bool) -> list[str]:
    """Assert statements in a test reply, split as CodeT does (on 'assert ', each piece cut at the stop
    sequences). A completion of a prompt ending in 'assert ' starts inside its first assert."""
    code = reply_code(reply)
    if continues_assert:
        code = "assert " + code
    pieces = [_truncate(f"assert {part}") for part in code.split("assert ")[1:] if part.strip()]
    return [p for p in pieces if p != "assert"]


def _parsed(case: str, max_chars: int) -> ast.Module | None:
    """A model-written case parsed on the host, or None: only short cases, since parsing a pathological source
    can take seconds and hundreds of MB."""
    if len(case) > max_chars:
        return None
    try:
        return ast.parse(case)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def is_trivial(case: str, entry_point: str, max_chars: int) -> bool:
    """A case that holds whatever the function does: it never calls `entry_point` (`assert True`,
    `assert 1 == 1`), or compares an expression with itself (`assert f(x) == f(x)`)."""
    tree = _parsed(case, max_chars)
    if tree is None:
        return False
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
             and n.func.id == entry_point]
    if not calls:
        return True
    test = tree.body[0].test if tree.body and isinstance(tree.body[0], ast.Assert) else None
    if isinstance(test, ast.Compare) and len(test.comparators) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
        return ast.dump(test.left) == ast.dump(test.comparators[0])
    return False


def first_assert(case: str, max_chars: int) -> str | None:
    """The case's leading assert statement alone: a completion often runs on past it into other code
    (`import os`, a print) that is no test; None when the case does not start with an assert."""
    tree = _parsed(case, max_chars)
    if tree is None or not tree.body or not isinstance(tree.body[0], ast.Assert):
        return None
    return ast.get_source_segment(case, tree.body[0])


def compiles_job(source: str) -> Job:
    """A job that only compiles and imports `source`: status ok, or syntax / forbidden / timeout."""
    return Job(f"{source}\n\ndef {COMPILES}():\n    return True\n", COMPILES)


def case_compiles_job(case: str) -> Job:
    """A job that compiles one test case without running it."""
    return compiles_job(f"def {COMPILES}_case():\n    if False:\n{textwrap.indent(case, ' ' * 8)}\n")


def cases_job(program: str, cases: list[str]) -> Job:
    """One job per (function, case pool), as CodeT's harness runs it: each case in its own try block, the
    value a list with one bool per case. A case that hangs fails the whole job (no per-case alarm here)."""
    lines = [program, "", f"def {RUN_CASES}():", "    results = []"]
    for case in cases:
        lines += ["    try:", textwrap.indent(case, " " * 8), "        results.append(True)",
                  "    except Exception:", "        results.append(False)"]
    lines.append("    return results")
    return Job("\n".join(lines) + "\n", RUN_CASES)


def ground_truth_job(program: str, ground_truth: str, entry_point: str) -> Job:
    return Job(f"{program}\n\n{ground_truth}\n\ndef {RUN_GROUND_TRUTH}():\n    check({entry_point})\n    return True\n",
               RUN_GROUND_TRUTH)


def ground_truth_outcomes(items: list[dict], tasks: list[dict], program_key: str, ctx: Context) -> list[Outcome]:
    """Per item (a task or a function row naming its task_id), whether `item[program_key]` passes the task's hidden
    ground truth: Outcome("ok", True), or the first failure. A function runs check(); a program runs on every
    hidden test, judged (wrong_answer, timeout, ...), in one batch."""
    by_id = {t["task_id"]: t for t in tasks}
    jobs, spans = [], []
    for item in items:
        task = by_id[item["task_id"]]
        start = len(jobs)
        if task["kind"] == "program":
            jobs += [program_job(item[program_key], t["input"], task, t["output"]) for t in task["hidden_tests"]]
        else:
            jobs.append(ground_truth_job(item[program_key], task["ground_truth"], task["entry_point"]))
        spans.append((start, len(jobs), task["kind"]))
    outcomes = ctx.sandbox.run(jobs, desc="ground truth")
    out = []
    for start, end, kind in spans:
        if kind != "program":
            out.append(outcomes[start])
            continue
        failed = next((o for o in outcomes[start:end] if o.status != "ok"), None)
        out.append(Outcome("ok", True) if failed is None else failed)
    return out

