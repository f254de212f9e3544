"""One row per (verifier function, test case) of the same constraint: the function's outcome on the case in the
sandbox (AutoIF step 3, the cross-validation matrix). The raw value is kept as JSON text; deciding what counts as a
verdict is the SQL stages' job, so the table shows a function returning "True" as it did."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict

from engine.context import Context
from engine.sandbox import cross_validate_groups
from engine.sandbox.matrix import MatrixRow

SKIPPED = "not run: the function timed out on its constraint's first case"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A verifier that hangs on the first case is run on no other: each hang costs a whole sandbox timeout, and
    # the hangs are most of the matrix's time at scale. Its remaining cells are recorded as timeouts (a timeout
    # counts as a wrong answer), so such a function cannot survive cross-validation either way.
    skip_after_first_timeout: bool = True


class MatrixCell(MatrixRow):
    constraint_id: str
    parent_ids: list[str]


def verifier_matrix(verifier_samples: list[dict], verifier_cases: list[dict], params: Params,
                    ctx: Context) -> list[MatrixCell]:
    functions: dict[str, list[dict]] = defaultdict(list)
    for sample in verifier_samples:
        functions[sample["constraint_id"]].append({"id": sample["id"], "source": sample["func"], "entry": "evaluate"})
    cases: dict[str, list[dict]] = defaultdict(list)
    for case in verifier_cases:
        cases[case["constraint_id"]].append({"id": case["id"], "args": [case["input"]]})
    constraints = sorted(functions)
    if not params.skip_after_first_timeout:
        matrix = cross_validate_groups(ctx.sandbox, {c: (functions[c], cases.get(c, [])) for c in constraints},
                                       desc="cross-validate")
        return [cell_row(c, cell) for c in constraints for cell in matrix[c]]

    first = cross_validate_groups(ctx.sandbox, {c: (functions[c], cases.get(c, [])[:1]) for c in constraints},
                                  desc="cross-validate (first cases)")
    hanging = {cell["func_id"] for cells in first.values() for cell in cells if cell["status"] == "timeout"}
    rest = cross_validate_groups(
        ctx.sandbox,
        {c: ([f for f in functions[c] if f["id"] not in hanging], cases.get(c, [])[1:]) for c in constraints},
        desc="cross-validate")
    out = []
    for c in constraints:
        done = {(cell["func_id"], cell["case_id"]): cell for cell in first[c] + rest[c]}
        for function in functions[c]:
            for case in cases.get(c, []):
                cell = done.get((function["id"], case["id"])) or {
                    "func_id": function["id"], "case_id": case["id"], "status": "timeout", "value": None,
                    "message": SKIPPED}
                out.append(cell_row(c, cell))
    return out


def cell_row(constraint_id: str, cell: dict) -> MatrixCell:
    return {"constraint_id": constraint_id, **cell, "parent_ids": [cell["func_id"], cell["case_id"]]}
