"""One row per generated function (task, generator, sample), checked to compile and import in the sandbox."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from stages.codegen_alignment.generation import GeneratorParams, generate, open_tasks, side_generates
from stages.codegen_alignment.programs import compiles_job, function_program


def functions(tasks: list[dict], alignment_prev: list[dict], params: GeneratorParams,
              ctx: Context) -> list[dict | Rejected]:
    if not side_generates("functions", params.regenerate, ctx.iteration):
        return []
    rows: list[dict | Rejected] = []
    for task, generator, _, index, response in generate(open_tasks(tasks, alignment_prev), params,
                                                                  "codegen_alignment.functions", ctx):
        row = {"parent_ids": [task["id"]], "task_id": task["task_id"], "generator": generator,
               "role": params.generators[generator].role, "sample_index": index, "llm_key": response.key,
               "simulated": response.simulated, "reply": response.text, "program": None}
        if not response.ok:
            rows.append(Rejected(row, "llm_error", response.error or ""))
            continue
        program = function_program(response.text, task["prompt"], task["entry_point"])
        if program is None:
            rows.append(Rejected(row, "no_code", response.text[:500]))
        else:
            rows.append({**row, "program": program})
    return check_programs(rows, ctx)


def check_programs(rows: list[dict | Rejected], ctx: Context) -> list[dict | Rejected]:
    """Programs that do not compile, fall outside the sandbox's policy, or hang or fail on import are
    rejected with the sandbox's status as the reason."""
    kept = [r for r in rows if not isinstance(r, Rejected)]
    outcomes = iter(ctx.sandbox.run([compiles_job(r["program"]) for r in kept]))
    out: list[dict | Rejected] = []
    for row in rows:
        if isinstance(row, Rejected):
            out.append(row)
            continue
        outcome = next(outcomes)
        out.append(row if outcome.status == "ok" else Rejected(row, outcome.status, outcome.message))
    return out
