"""Legitimate verifiers, including code stock RestrictedPython rejects, give the right verdicts."""

from __future__ import annotations

import pytest

from tests.sandbox.verifier_corpus import VERIFIERS


def test_corpus_is_large_enough():
    assert len(VERIFIERS) >= 40
    assert len({v.name for v in VERIFIERS}) == len(VERIFIERS)


@pytest.mark.parametrize("verifier", VERIFIERS, ids=lambda v: v.name)
def test_verifier_gives_the_right_verdicts(verifier, verifier_outcomes):
    for i, (response, expected) in enumerate(verifier.cases):
        outcome = verifier_outcomes[(verifier.name, i)]
        assert outcome.status == "ok", (response, outcome)
        assert outcome.value is expected, response
