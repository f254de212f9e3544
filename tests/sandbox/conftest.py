"""Real sandboxes with small limits; the corpora run as one batch each, shared by their tests."""

from __future__ import annotations

import pytest

from engine.sandbox import Job, Outcome, Sandbox
from tests.sandbox.attack_corpus import ATTACKS
from tests.sandbox.verifier_corpus import VERIFIERS

LIMITS = {"timeout_s": 1.0, "memory_mb": 256}
# The shared sandbox runs the corpora: slow-but-finite attacks (a memory bomb, a crash after a long loop)
# must reach their own end before the clock does, even when other processes load the machine.
CORPUS_LIMITS = {"timeout_s": 3.0, "memory_mb": 256}


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(workers=2, **CORPUS_LIMITS) as sb:
        yield sb


@pytest.fixture(scope="session")
def attack_outcomes(sandbox) -> dict[str, Outcome]:
    outcomes = sandbox.run([Job(a.source, "evaluate", ("some text",)) for a in ATTACKS])
    return {a.name: o for a, o in zip(ATTACKS, outcomes, strict=True)}


@pytest.fixture(scope="session")
def verifier_outcomes(sandbox) -> dict[tuple[str, int], Outcome]:
    keys, jobs = [], []
    for v in VERIFIERS:
        for i, (response, _) in enumerate(v.cases):
            keys.append((v.name, i))
            jobs.append(Job(v.source, "evaluate", (response,)))
    return dict(zip(keys, sandbox.run(jobs, expect_bool=True), strict=True))
