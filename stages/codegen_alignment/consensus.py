"""The decisions over a cross-validation matrix, as plain functions: which (function, test set) pairs align,
and how CodeT ranks functions by agreement. Matrices are given as {function id: ids of the cases it passes}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TestSet:
    __test__ = False  # not a pytest class
    id: str
    case_ids: tuple[str, ...]
    nontrivial: bool  # at least min_asserts asserts, and not all of them trivially true


def aligned_pairs(passed: Mapping[str, Iterable[str]], test_sets: Iterable[TestSet]) -> list[tuple[str, str]]:
    """(function id, test set id) for every function passing every case of a non-trivial test set, in
    the order functions and test sets were given."""
    sets = [s for s in test_sets if s.nontrivial]
    out = []
    for func_id, cases in passed.items():
        cases = set(cases)
        out += [(func_id, s.id) for s in sets if cases.issuperset(s.case_ids)]
    return out


@dataclass(frozen=True)
class ConsensusGroup:
    func_ids: tuple[str, ...]  # functions passing exactly the same cases
    case_ids: frozenset[str]
    score: float


def codet_groups(passed: Mapping[str, Iterable[str]], case_weight: Mapping[str, int], *,
                 sqrt: bool) -> list[ConsensusGroup]:
    """CodeT's dual agreement: functions grouped by the set of cases they pass; a group scores the number of
    cases it passes (each weighted by how many test sets proposed it) times its number of functions
    (the paper) or that number's square root (CodeT's released code). Only cases in `case_weight` count;
    functions passing none are not ranked. Best first; ties keep first-seen order."""
    by_cases: dict[frozenset[str], list[str]] = {}
    for func_id, cases in passed.items():
        counted = frozenset(c for c in cases if c in case_weight)
        if counted:
            by_cases.setdefault(counted, []).append(func_id)
    groups = []
    for cases, func_ids in by_cases.items():
        size = math.sqrt(len(func_ids)) if sqrt else len(func_ids)
        groups.append(ConsensusGroup(tuple(func_ids), cases, sum(case_weight[c] for c in cases) * size))
    return sorted(groups, key=lambda g: -g.score)


def top_choice(groups: list[ConsensusGroup]) -> tuple[list[str], float]:
    """The functions a top-1 pick chooses among (every group tied at the best score, as CodeT merges them)
    and that score; ([], 0.0) when nothing is ranked."""
    if not groups:
        return [], 0.0
    best = groups[0].score
    return [f for g in groups if g.score == best for f in g.func_ids], best


def expected_pass(candidates: Iterable[str], correct: Mapping[str, bool]) -> float:
    """The chance that a pick uniformly among `candidates` passes the ground truth."""
    candidates = list(candidates)
    return sum(bool(correct.get(c)) for c in candidates) / len(candidates) if candidates else 0.0
