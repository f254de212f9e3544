"""One row per generated function (task, generator, sample), checked to compile and import in the sandbox; with
known_good=reference_function, one row per task instead: its reference solution, the known-good function."""

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
from helpers.codegen_alignment.programs import case_compiles_job, compiles_job, function_program, reply_code

REFERENCE = "reference"  # the generator name of known-good functions


class Function(GeneratedRow):
    program: str | None  # the code run in the sandbox (None when the reply had none)


class Params(GeneratorParams):
    code_generators: dict[str, Generator] = Field(min_length=1)
    functions_per_round: int = Field(ge=1, le=1000)  # samples per code generator, task and round


def functions(tasks: list[dict], reference_functions: list[dict], alignment_prev: list[dict],
              params: Params, ctx: Context) -> list[Function | Rejected]:
    # the references are read only here, where no prompt is built; the generators below see `tasks` alone
    if params.known_good == "reference_function":
        return reference_rows(tasks, reference_functions, ctx) if ctx.iteration == 0 else []
    if not side_generates("functions", params.regenerate, params.known_good, ctx.iteration):
        return []
    rows: list[dict | Rejected] = []
    for task, generator, _, index, response in generate(open_tasks(tasks, alignment_prev), params.code_generators,
                                                        params.functions_per_round, params,
                                                        "codegen_alignment.functions", ctx):
        row = {"parent_ids": [task["id"]], "task_id": task["task_id"], "generator": generator,
               "role": params.code_generators[generator].role,
               "prompt": prompt_name(params.code_generators, generator, task),
               "sample_index": index, "llm_key": response.key, "simulated": response.simulated,
               "reply": response.text, "program": None}
        if not response.ok:
            rows.append(Rejected(row, response.reason, response.error or ""))
            continue
        program = (whole_program(response.text) if task["kind"] == "program"
                   else function_program(response.text, task["prompt"], task["entry_point"]))
        if program is None:
            rows.append(Rejected(row, "no_code", response.text[:500]))
        else:
            rows.append({**row, "program": program})
    return check_programs(rows, tasks, ctx)


def whole_program(reply: str) -> str | None:
    """A program task's reply is the program itself (its first python block); None when there is no code."""
    code = reply_code(reply).strip("\n")
    return f"{code}\n" if code.strip() else None


def reference_rows(tasks: list[dict], reference_functions: list[dict], ctx: Context) -> list[dict | Rejected]:
    references = {r["task_id"]: r for r in reference_functions}
    rows: list[dict | Rejected] = [
        {"parent_ids": [t["id"], references[t["task_id"]]["id"]], "task_id": t["task_id"], "generator": REFERENCE,
         "role": None, "prompt": None, "sample_index": 0, "llm_key": None, "simulated": False, "reply": None,
         "program": references[t["task_id"]]["program"]}
        for t in tasks]
    return check_programs(rows, tasks, ctx)


def check_programs(rows: list[dict | Rejected], tasks: list[dict], ctx: Context) -> list[dict | Rejected]:
    """Programs that do not compile, fall outside the sandbox's policy, or hang or fail on import are
    rejected with the sandbox's status as the reason. A whole program (program tasks) is compiled, not run: run,
    it would read its stdin."""
    whole = {t["task_id"] for t in tasks if t["kind"] == "program"}
    kept = [r for r in rows if not isinstance(r, Rejected)]
    outcomes = iter(ctx.sandbox.run([case_compiles_job(r["program"]) if r["task_id"] in whole
                                     else compiles_job(r["program"]) for r in kept]))
    out: list[dict | Rejected] = []
    for row in rows:
        if isinstance(row, Rejected):
            out.append(row)
            continue
        outcome = next(outcomes)
        out.append(row if outcome.status == "ok" else Rejected(row, outcome.status, outcome.message))
    return out
