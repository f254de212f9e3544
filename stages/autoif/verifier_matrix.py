"""One row per (verifier, test case) of the same constraint: the verifier's outcome on the case in the sandbox
(AutoIF step 3, the cross-validation matrix). The raw value is kept as JSON text, so the table shows a verifier
returning "True" as it did, beside its `verdict`: the one place the rule of what counts as a verdict is written."""

from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

from pydantic import BaseModel, ConfigDict

from engine.context import Context
from engine.sandbox import cross_validate_groups

SKIPPED = "not run: the function timed out on its constraint's first case"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A verifier that hangs on the first case is run on no other: each hang costs a whole sandbox timeout, and
    # the hangs are most of the matrix's time at scale. Its remaining cells are recorded as timeouts (a timeout
    # counts as a wrong answer), so such a function cannot survive cross-validation either way.
    skip_after_first_timeout: bool = True


class MatrixCell(TypedDict):
    constraint_id: str
    verifier_id: str
    case_id: str
    status: str  # the sandbox's: ok | error | timeout | memory | forbidden | syntax
    value: str | None  # the return value as JSON text when ok
    message: str
    verdict: bool | None  # see verdict()
    parent_ids: list[str]


def verdict(status: str, value: str | None) -> bool | None:
    """A verifier's verdict on a text: only a real True or False counts. A crash, a timeout or any other value
    (the string "True", 1, None) is no verdict, so it never agrees with a case and counts as a wrong answer."""
    return value == "true" if status == "ok" and value in ("true", "false") else None


def verifier_matrix(verifier_samples: list[dict], verifier_cases: list[dict], params: Params,
                    ctx: Context) -> list[MatrixCell]:
    verifiers: dict[str, list[dict]] = defaultdict(list)  # as engine.sandbox.matrix takes functions
    for sample in verifier_samples:
        verifiers[sample["constraint_id"]].append({"id": sample["id"], "source": sample["code"], "entry": "evaluate"})
    cases: dict[str, list[dict]] = defaultdict(list)
    for case in verifier_cases:
        cases[case["constraint_id"]].append({"id": case["id"], "args": [case["input"]]})
    constraints = sorted(verifiers)
    if not params.skip_after_first_timeout:
        matrix = cross_validate_groups(ctx.sandbox, {c: (verifiers[c], cases.get(c, [])) for c in constraints},
                                       desc="cross-validate")
        return [cell_row(c, cell) for c in constraints for cell in matrix[c]]

    first = cross_validate_groups(ctx.sandbox, {c: (verifiers[c], cases.get(c, [])[:1]) for c in constraints},
                                  desc="cross-validate (first cases)")
    hanging = {cell["function_id"] for cells in first.values() for cell in cells if cell["status"] == "timeout"}
    rest = cross_validate_groups(
        ctx.sandbox,
        {c: ([v for v in verifiers[c] if v["id"] not in hanging], cases.get(c, [])[1:]) for c in constraints},
        desc="cross-validate")
    out = []
    for c in constraints:
        done = {(cell["function_id"], cell["case_id"]): cell for cell in first[c] + rest[c]}
        for verifier in verifiers[c]:
            for case in cases.get(c, []):
                cell = done.get((verifier["id"], case["id"])) or {
                    "function_id": verifier["id"], "case_id": case["id"], "status": "timeout", "value": None,
                    "message": SKIPPED}
                out.append(cell_row(c, cell))
    return out


def cell_row(constraint_id: str, cell: dict) -> MatrixCell:
    """A cell of the sandbox's matrix (engine.sandbox.matrix: a function's `function_id`) as a verifier's row."""
    return {"constraint_id": constraint_id, "verifier_id": cell["function_id"], "case_id": cell["case_id"],
            "status": cell["status"], "value": cell["value"], "message": cell["message"],
            "verdict": verdict(cell["status"], cell["value"]), "parent_ids": [cell["function_id"], cell["case_id"]]}
