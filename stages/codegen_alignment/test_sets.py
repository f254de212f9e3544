"""One row per test set: the asserts of one generated reply (or, with known_good=docstring_tests, of the task's
docstring); for a program task, its input/output cases (io_cases.py) in the same columns."""

from __future__ import annotations

from pydantic import Field

from engine.context import Context
from engine.rows import Rejected
from helpers.codegen_alignment.generation import (
    GeneratedRow,
    Generator,
    GeneratorParams,
    generate,
    open_tasks,
    prompt_name,
    side_generates,
)
from helpers.codegen_alignment.io_cases import is_trivial_case, split_io_cases
from helpers.codegen_alignment.programs import case_compiles_job, case_id, first_assert, is_trivial, split_asserts

DOCSTRING = "docstring"  # the generator name of known-good test sets


class TestSet(GeneratedRow):
    asserts: list[str]  # its cases: asserts, or input/output tests on program tasks
    case_ids: list[str]
    trivial: list[bool]  # per case: passes whatever the function
    n_asserts: int
    n_dropped: int
    nontrivial: bool  # enough asserts, not all trivial: it can align


class Params(GeneratorParams):
    test_generators: dict[str, Generator] = Field(min_length=1)
    test_sets_per_round: int = Field(ge=1, le=1000)  # samples per test generator, task and round
    asserts_per_test_set: int = Field(5, ge=1)  # the first n asserts of a reply (CodeT's limit)
    min_asserts: int = Field(1, ge=1)  # fewer asserts than this: not enough to align on
    max_case_chars: int = Field(2000, ge=10)  # longer asserts are dropped unparsed


def test_sets(tasks: list[dict], alignment_prev: list[dict], params: Params,
              ctx: Context) -> list[TestSet | Rejected]:
    if params.known_good == "docstring_tests":
        return docstring_test_sets(tasks, params, ctx) if ctx.iteration == 0 else []
    if not side_generates("tests", params.regenerate, params.known_good, ctx.iteration):
        return []
    drafts = []
    for task, generator, prompt_text, index, response in generate(
            open_tasks(tasks, alignment_prev), params.test_generators, params.test_sets_per_round, params,
            "codegen_alignment.test_sets", ctx):
        gen = params.test_generators[generator]
        row = {"parent_ids": [task["id"]], "task_id": task["task_id"], "generator": generator, "role": gen.role,
               "prompt": prompt_name(params.test_generators, generator, task), "sample_index": index,
               "llm_key": response.key, "simulated": response.simulated, "reply": response.text}
        if not response.ok:
            drafts.append((row, task, Rejected(row, response.reason, response.error or "")))
        elif task["kind"] == "program":
            drafts.append((row, task, split_io_cases(response.text, gen.expected_outputs == "written")))
        else:
            drafts.append((row, task, split_asserts(response.text, continues_assert=prompt_text.endswith("assert "))))
    return finish(drafts, params, ctx)


def docstring_test_sets(tasks: list[dict], params: Params, ctx: Context) -> list[dict | Rejected]:
    drafts = [({"parent_ids": [t["id"]], "task_id": t["task_id"], "generator": DOCSTRING, "role": None, "prompt": None,
                "sample_index": 0, "llm_key": None, "simulated": False, "reply": None}, t, list(t["docstring_asserts"]))
              for t in tasks]
    return finish(drafts, params, ctx)


def finish(drafts: list[tuple[dict, dict, list[str] | Rejected]], params: Params,
           ctx: Context) -> list[dict | Rejected]:
    """Keep the asserts that compile in the sandbox (each cut to its assert statement, the first
    asserts_per_test_set of them) and mark the trivial ones; a reply left with no assert is rejected. A program
    task's cases are data, not code: they are kept as parsed (the first asserts_per_test_set)."""
    functions = [d for d in drafts if d[1]["kind"] != "program"]
    return finish_asserts(functions, params, ctx) + [finish_io(*d, params) for d in drafts if d[1]["kind"] == "program"]


def finish_io(row: dict, task: dict, parsed: list[str] | Rejected, params: Params) -> dict | Rejected:
    if isinstance(parsed, Rejected):
        return parsed
    cases = list(dict.fromkeys(c for c in parsed if len(c) <= params.max_case_chars))[: params.asserts_per_test_set]
    if not cases:
        return Rejected(row, "no_asserts", (row["reply"] or "")[:500])
    trivial = [is_trivial_case(c, task["public_tests"]) for c in cases]
    return {**row, "asserts": cases, "case_ids": [case_id(task["task_id"], c) for c in cases], "trivial": trivial,
            "n_asserts": len(cases), "n_dropped": len(parsed) - len(cases),
            "nontrivial": len(cases) >= params.min_asserts and not all(trivial)}


def finish_asserts(drafts: list[tuple[dict, dict, list[str] | Rejected]], params: Params,
                   ctx: Context) -> list[dict | Rejected]:
    pieces = sorted({p for _, _, parsed in drafts if isinstance(parsed, list) for p in parsed
                     if len(p) <= params.max_case_chars})
    outcomes = ctx.sandbox.run([case_compiles_job(p) for p in pieces])
    compiles = {p for p, o in zip(pieces, outcomes, strict=True) if o.status == "ok"}
    out: list[dict | Rejected] = []
    for row, task, parsed in drafts:
        if isinstance(parsed, Rejected):
            out.append(parsed)
            continue
        leading = (first_assert(p, params.max_case_chars) for p in parsed if p in compiles)
        asserts = list(dict.fromkeys(a for a in leading if a))[: params.asserts_per_test_set]
        if not asserts:
            out.append(Rejected(row, "no_asserts", (row["reply"] or "")[:500]))
            continue
        trivial = [is_trivial(a, task["entry_point"], params.max_case_chars) for a in asserts]
        out.append({**row, "asserts": asserts, "case_ids": [case_id(task["task_id"], a) for a in asserts],
                    "trivial": trivial, "n_asserts": len(asserts), "n_dropped": len(parsed) - len(asserts),
                    "nontrivial": len(asserts) >= params.min_asserts and not all(trivial)})
    return out
