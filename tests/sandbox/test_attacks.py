"""Each hostile or runaway source is contained with the right status, and the pool survives all of them."""

from __future__ import annotations

import pytest

from engine.sandbox import Job
from tests.sandbox.attack_corpus import ATTACKS


def test_corpus_is_large_enough():
    assert len(ATTACKS) >= 40
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_is_contained(attack, attack_outcomes):
    outcome = attack_outcomes[attack.name]
    assert outcome.status in attack.expected, outcome
    assert outcome.value is None
    assert outcome.message


def test_crash_is_reported_with_its_signal(attack_outcomes):
    assert "SIGSEGV" in attack_outcomes["segfault_nested_map"].message


def test_pool_still_works_after_the_attacks(sandbox, attack_outcomes):
    assert sandbox.run([Job("def f(x):\n    return x * 2\n", "f", (21,))])[0].value == 42
