"""One row per (verifier function, test case) of the same constraint: the function's outcome on the case in the
sandbox (AutoIF step 3, the cross-validation matrix). The raw value is kept as JSON text; deciding what counts as a
verdict is the SQL stages' job, so the table shows a function returning "True" as it did."""

from __future__ import annotations

from collections import defaultdict

from engine.context import Context
from engine.sandbox import cross_validate_groups


def verifier_matrix(verifier_samples: list[dict], verifier_cases: list[dict], ctx: Context) -> list[dict]:
    functions: dict[str, list[dict]] = defaultdict(list)
    for sample in verifier_samples:
        functions[sample["constraint_id"]].append({"id": sample["id"], "source": sample["func"], "entry": "evaluate"})
    cases: dict[str, list[dict]] = defaultdict(list)
    for case in verifier_cases:
        cases[case["constraint_id"]].append({"id": case["id"], "args": [case["input"]]})
    groups = {c: (functions[c], cases.get(c, [])) for c in sorted(functions)}
    matrix = cross_validate_groups(ctx.sandbox, groups, desc="cross-validate")
    return [{"constraint_id": constraint_id, **cell, "parent_ids": [cell["func_id"], cell["case_id"]]}
            for constraint_id, cells in matrix.items() for cell in cells]
