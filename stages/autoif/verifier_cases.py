"""One row per (constraint, distinct case input): the test cases of a constraint's verifier samples, pooled, with
the expected output normalised to a boolean. JSON true/false count, and so do the strings "true"/"false" in any
case (a common way models write them); any other output (1, "yes", null) is rejected as `non_bool_output`, never
guessed. A repeated input keeps its first label (`duplicate_case`, detail says whether the labels disagreed)."""

from __future__ import annotations

import json
from typing import TypedDict

from engine.rows import Rejected

_BOOL_STRINGS = {"true": True, "false": False}


def expected_output(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOL_STRINGS.get(value.strip().lower())
    return None


class VerifierCase(TypedDict):
    constraint_id: str
    number: int
    input: str
    raw_output: str
    parent_ids: list[str]
    expected: bool


def verifier_cases(verifier_samples: list[dict]) -> list[VerifierCase | Rejected]:
    seen: dict[tuple[str, str], bool] = {}
    out: list[VerifierCase | Rejected] = []
    for sample in verifier_samples:
        for number, case in enumerate(json.loads(sample["cases"])):
            raw = case.get("output") if isinstance(case, dict) else None
            text = case.get("input") if isinstance(case, dict) else None
            row = {"constraint_id": sample["constraint_id"], "number": number, "input": text if isinstance(
                text, str) else json.dumps(text), "raw_output": json.dumps(raw), "parent_ids": [sample["id"]]}
            if not isinstance(text, str):
                out.append(Rejected(row, "non_text_input", f"case input is {type(text).__name__}"))
                continue
            expected = expected_output(raw)
            if expected is None:
                out.append(Rejected(row, "non_bool_output", f"output {raw!r} is not a boolean"))
                continue
            key = (sample["constraint_id"], text)
            if key in seen:
                agree = "same label" if seen[key] == expected else "conflicting label"
                out.append(Rejected(row, "duplicate_case", agree))
                continue
            seen[key] = expected
            out.append({**row, "expected": expected})
    return out
