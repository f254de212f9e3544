"""Judging a program's stdout against an expected output, as contest judges' default checkers do.

Runs in the host, after the outcome cache: the cache holds what a program printed for a stdin, whatever output
any test expects, so one run serves every test set proposing that input. Outputs compare as whitespace-separated
tokens (line breaks, trailing spaces and a missing final newline do not matter); with a float tolerance, two
tokens that both read as numbers match when they differ by at most the tolerance, absolutely or relative to the
expected value (Codeforces' and ICPC's "1e-6 absolute or relative error").
"""

from __future__ import annotations

import math
from dataclasses import replace

from engine.sandbox.outcome import Outcome, ProgramJob

SHOWN_CHARS = 40


def normalised_output(text: str) -> str:
    """The output as judges read it: its tokens, one space apart; equal for outputs that judge the same
    without a float tolerance."""
    return " ".join(text.split())


def _as_number(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def tokens_match(expected: str, actual: str, float_tolerance: float | None) -> bool:
    if expected == actual:
        return True
    if float_tolerance is None:
        return False
    want, got = _as_number(expected), _as_number(actual)
    if want is None or got is None:
        return False
    return abs(want - got) <= float_tolerance * max(1.0, abs(want))


def mismatch(expected: str, actual: str, float_tolerance: float | None = None) -> str | None:
    """Why `actual` is not `expected` ("token 3: expected '5', found '6'"), or None when they match."""
    want, got = expected.split(), actual.split()
    for position, (w, g) in enumerate(zip(want, got, strict=False), start=1):
        if not tokens_match(w, g, float_tolerance):
            return f"token {position}: expected {w[:SHOWN_CHARS]!r}, found {g[:SHOWN_CHARS]!r}"
    if len(want) != len(got):
        return f"expected {len(want)} tokens, found {len(got)}"
    return None


def judged(outcome: Outcome, job: ProgramJob) -> Outcome:
    """An ok run of a job with an expected output becomes wrong_answer when its stdout does not match."""
    if job.expected is None or outcome.status != "ok" or not isinstance(outcome.value, str):
        return outcome
    why = mismatch(job.expected, outcome.value, job.float_tolerance)
    return outcome if why is None else replace(outcome, status="wrong_answer", message=why)
