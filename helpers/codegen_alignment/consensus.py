"""The decisions over a cross-validation matrix, as plain functions: which (function, test set) pairs align,
and how CodeT and B4 rank functions by agreement. Matrices are given as {function id: ids of the cases it passes}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


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
    for function_id, cases in passed.items():
        cases = set(cases)
        out += [(function_id, s.id) for s in sets if cases.issuperset(s.case_ids)]
    return out


@dataclass(frozen=True)
class ConsensusGroup:
    function_ids: tuple[str, ...]  # functions passing exactly the same cases
    case_ids: frozenset[str]
    score: float


def codet_groups(passed: Mapping[str, Iterable[str]], case_weight: Mapping[str, int], *,
                 sqrt: bool) -> list[ConsensusGroup]:
    """CodeT's dual agreement: functions grouped by the set of cases they pass; a group scores the number of
    cases it passes (each weighted by how many test sets proposed it) times its number of functions
    (the paper) or that number's square root (CodeT's released code). Only cases in `case_weight` count;
    functions passing none are not ranked. Best first; ties keep first-seen order."""
    by_cases: dict[frozenset[str], list[str]] = {}
    for function_id, cases in passed.items():
        counted = frozenset(c for c in cases if c in case_weight)
        if counted:
            by_cases.setdefault(counted, []).append(function_id)
    groups = []
    for cases, function_ids in by_cases.items():
        size = math.sqrt(len(function_ids)) if sqrt else len(function_ids)
        groups.append(ConsensusGroup(tuple(function_ids), cases, sum(case_weight[c] for c in cases) * size))
    return sorted(groups, key=lambda g: -g.score)


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior on the rate of a Bernoulli event."""

    alpha: float
    beta: float

    def __post_init__(self):
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError(f"a Beta prior needs alpha > 0 and beta > 0, found alpha={self.alpha}, beta={self.beta}")


@dataclass(frozen=True)
class B4Priors:
    """B4's beliefs before seeing the matrix (defaults: its released code's alpha_xy = 1e3, beta_0 = 1e4)."""

    function_correct: BetaPrior = field(default_factory=lambda: BetaPrior(1000, 1))
    test_correct: BetaPrior = field(default_factory=lambda: BetaPrior(1000, 1))
    wrong_passes_correct: BetaPrior = field(default_factory=lambda: BetaPrior(1, 1))  # a wrong function, a right case
    wrong_passes_wrong: BetaPrior = field(default_factory=lambda: BetaPrior(1, 10_000))  # wrong on wrong: rare


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def log_sequence_probability(successes: int, trials: int, prior: BetaPrior) -> float:
    """log P(one given sequence of `trials` Bernoulli outcomes with `successes` ones), the rate drawn from `prior`
    and integrated out: B(successes + alpha, failures + beta) / B(alpha, beta)."""
    return (log_beta(successes + prior.alpha, trials - successes + prior.beta)
            - log_beta(prior.alpha, prior.beta))


def b4_groups(passed: Mapping[str, Iterable[str]], case_ids: Iterable[str], priors: B4Priors) -> list[ConsensusGroup]:
    """B4 (Chen et al. 2024): every consensus set (the functions passing exactly the same cases) is a hypothesis
    that these functions are the correct ones and these cases the correct tests, as a correct function passes
    every correct test and fails every wrong one. Its score is the log of the joint probability of that
    hypothesis and the whole matrix: which functions and which cases are correct (rates under
    `function_correct`, `test_correct`), how often the other functions pass the correct cases
    (`wrong_passes_correct`) and the wrong cases (`wrong_passes_wrong`). Each case counts once; functions passing
    none of them form a set too. Empty when no function passes any case (nothing to go on). Best first."""
    cases = frozenset(case_ids)
    by_cases: dict[frozenset[str], list[str]] = {}
    for function_id, passes in passed.items():
        by_cases.setdefault(frozenset(passes) & cases, []).append(function_id)
    if not any(by_cases):
        return []
    n_functions = len(passed)
    passes_of_case = dict.fromkeys(cases, 0)
    for passes, function_ids in by_cases.items():
        for c in passes:
            passes_of_case[c] += len(function_ids)
    all_passes = sum(passes_of_case.values())
    groups = []
    for passes, function_ids in by_cases.items():
        others = n_functions - len(function_ids)
        on_its_cases = sum(passes_of_case[c] for c in passes)
        # the set's own functions pass all of its cases and none of the others: the rest is the others' doing
        others_on_correct = on_its_cases - len(function_ids) * len(passes)
        others_on_wrong = all_passes - on_its_cases
        score = (log_sequence_probability(len(function_ids), n_functions, priors.function_correct)
                 + log_sequence_probability(len(passes), len(cases), priors.test_correct)
                 + log_sequence_probability(others_on_correct, others * len(passes), priors.wrong_passes_correct)
                 + log_sequence_probability(others_on_wrong, others * (len(cases) - len(passes)),
                                            priors.wrong_passes_wrong))
        groups.append(ConsensusGroup(tuple(function_ids), passes, score))
    return sorted(groups, key=lambda g: -g.score)


def top_choice(groups: list[ConsensusGroup]) -> tuple[list[str], float]:
    """The functions a top-1 pick chooses among (every group tied at the best score, as CodeT merges them)
    and that score; ([], 0.0) when nothing is ranked."""
    if not groups:
        return [], 0.0
    best = groups[0].score
    return [f for g in groups if g.score == best for f in g.function_ids], best


def expected_pass(candidates: Iterable[str], correct: Mapping[str, bool]) -> float:
    """The chance that a pick uniformly among `candidates` passes the ground truth."""
    candidates = list(candidates)
    return sum(bool(correct.get(c)) for c in candidates) / len(candidates) if candidates else 0.0
