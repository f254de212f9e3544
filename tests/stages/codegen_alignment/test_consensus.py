"""Alignment, CodeT and B4 ranking on hand-made matrices, against values computed by hand."""

from __future__ import annotations

import math
import random

import pytest
from pydantic import ValidationError

from helpers.codegen_alignment.consensus import (
    B4Priors,
    BetaPrior,
    TestSet,
    aligned_pairs,
    b4_groups,
    codet_groups,
    expected_pass,
    log_sequence_probability,
    top_choice,
)
from stages.codegen_alignment.selections import Params


def test_a_function_aligns_only_with_a_test_set_it_passes_entirely():
    passed = {"f1": ["a", "b"], "f2": ["a"], "f3": []}
    sets = [TestSet("s1", ("a", "b"), True), TestSet("s2", ("a",), True), TestSet("s3", ("c",), True)]
    assert aligned_pairs(passed, sets) == [("f1", "s1"), ("f1", "s2"), ("f2", "s2")]


def test_trivial_test_sets_never_align():
    passed = {"f1": ["t"]}
    assert aligned_pairs(passed, [TestSet("s1", ("t",), False)]) == []


def test_no_function_passing_everything_means_not_aligned():
    passed = {"f1": ["a"], "f2": ["b"]}
    assert aligned_pairs(passed, [TestSet("s1", ("a", "b"), True)]) == []


# Hand-made matrix: f1, f2 pass {a, b}; f3 passes {a, b, c}; f4 passes {c}; f5 passes nothing.
# Case weights (test sets proposing each case): a 2, b 1, c 3.
PASSED = {"f1": ["a", "b"], "f2": ["a", "b"], "f3": ["a", "b", "c"], "f4": ["c"], "f5": []}
WEIGHT = {"a": 2, "b": 1, "c": 3}


def test_codet_groups_functions_by_the_cases_they_pass_and_scores_cases_times_functions():
    groups = codet_groups(PASSED, WEIGHT, sqrt=False)
    scores = {g.function_ids: g.score for g in groups}
    # {a,b}: (2 + 1) * 2 = 6; {a,b,c}: 6 * 1 = 6; {c}: 3 * 1 = 3; f5 passes nothing and is not ranked
    assert scores == {("f1", "f2"): 6, ("f3",): 6, ("f4",): 3}
    assert top_choice(groups) == (["f1", "f2", "f3"], 6)  # tied groups are merged, as CodeT does


def test_codet_sqrt_weighs_group_size_by_its_square_root():
    groups = codet_groups(PASSED, WEIGHT, sqrt=True)
    scores = {g.function_ids: g.score for g in groups}
    assert math.isclose(scores[("f1", "f2")], 3 * math.sqrt(2))
    assert scores[("f3",)] == 6
    assert top_choice(groups) == (["f3"], 6)


def test_cases_outside_the_weights_do_not_count():
    groups = codet_groups({"f1": ["x", "a"]}, {"a": 1}, sqrt=False)
    assert [(g.function_ids, g.case_ids, g.score) for g in groups] == [(("f1",), frozenset({"a"}), 1)]


def test_nothing_ranked_gives_no_candidates():
    assert top_choice(codet_groups({"f1": []}, WEIGHT, sqrt=False)) == ([], 0.0)


def test_expected_pass_is_the_share_of_correct_candidates():
    assert expected_pass(["f1", "f2", "f3"], {"f1": True, "f2": False, "f3": True}) == 2 / 3
    assert expected_pass([], {}) == 0.0


# B4 on the same matrix (cases a, b, c counted once each), with small integer priors so that every factor is a
# ratio of factorials: a sequence of n Bernoulli outcomes with k ones under Beta(a, b) has probability
# B(k + a, n - k + b) / B(a, b), and B(x, y) = (x - 1)! (y - 1)! / (x + y - 1)!.
SMALL_PRIORS = B4Priors(function_correct=BetaPrior(2, 1), test_correct=BetaPrior(2, 1),
                        wrong_passes_correct=BetaPrior(1, 1), wrong_passes_wrong=BetaPrior(1, 2))


def test_a_sequence_probability_integrates_the_rate_out():
    # 2 ones in 4 draws under a uniform prior: 2! 2! / 5! = 1/30; no draws: probability 1
    assert math.isclose(math.exp(log_sequence_probability(2, 4, BetaPrior(1, 1))), 1 / 30)
    assert log_sequence_probability(0, 0, BetaPrior(3, 7)) == 0


def test_b4_scores_each_consensus_set_by_the_probability_of_it_and_the_matrix():
    groups = {g.function_ids: g for g in b4_groups(PASSED, WEIGHT, SMALL_PRIORS)}
    probability = {ids: math.exp(g.score) for ids, g in groups.items()}
    # {f1, f2} right with {a, b}: functions 2 of 5 right 1/70, cases 2 of 3 right 1/10; the other three
    # functions pass 2 of their 6 (function, right case) entries 1/105 and 2 of their 3 wrong-case entries 1/15
    assert math.isclose(probability[("f1", "f2")], 1 / 70 * 1 / 10 * 1 / 105 * 1 / 15)
    # {f3} with {a, b, c}: 2/105 * 2/5, the other four pass 5 of 12 right-case entries 1/10296, no wrong case
    assert math.isclose(probability[("f3",)], 2 / 105 * 2 / 5 * 1 / 10296)
    # {f4} with {c}: 2/105 * 1/15, others pass 1 of 4 on c 1/20 and 6 of 8 on a, b 1/420
    assert math.isclose(probability[("f4",)], 2 / 105 * 1 / 15 * 1 / 20 * 1 / 420)
    # {f5} passing nothing, every case wrong: 2/105 * 1/10, others pass 8 of 12 wrong-case entries 1/9009
    assert math.isclose(probability[("f5",)], 2 / 105 * 1 / 10 * 1 / 9009)
    assert groups[("f4",)].case_ids == frozenset({"c"}) and groups[("f5",)].case_ids == frozenset()
    # where CodeT's sqrt score picks the lone function passing everything, B4 believes the pair
    assert top_choice(list(groups.values()))[0] == ["f1", "f2"]


def test_b4_reads_wrong_functions_agreeing_on_a_case_as_evidence_that_the_case_is_right():
    # f0-f2 pass {c0, c1}; f3 passes {c2}; f4 passes all three. CodeT picks the three (6 > 3; sqrt 3.46 > 3).
    # If they were right, c2 would be wrong and two wrong functions (f3, f4) would both pass it; wrong functions
    # rarely pass the same wrong case (the released prior Beta(1, 1e4)), so B4 believes f4 and all three cases.
    passed = {"f0": ["c0", "c1"], "f1": ["c0", "c1"], "f2": ["c0", "c1"], "f3": ["c2"], "f4": ["c0", "c1", "c2"]}
    cases = ["c0", "c1", "c2"]
    assert top_choice(codet_groups(passed, dict.fromkeys(cases, 1), sqrt=True))[0] == ["f0", "f1", "f2"]
    assert top_choice(b4_groups(passed, cases, B4Priors()))[0] == ["f4"]
    # a prior that lets wrong functions pass wrong cases as often as not brings the majority back
    lenient = B4Priors(wrong_passes_wrong=BetaPrior(1, 1))
    assert top_choice(b4_groups(passed, cases, lenient))[0] == ["f0", "f1", "f2"]


def brute_force_log_joint(passed: dict[str, list[str]], cases: list[str], right_funcs: set[str],
                          right_cases: set[str], priors: B4Priors) -> float:
    """B4's joint probability, counting every matrix entry one by one into its block."""
    counts = {"right_case": [0, 0], "wrong_case": [0, 0]}  # [passes, entries] of the wrong functions
    for func, passes in passed.items():
        if func in right_funcs:
            continue
        for case in cases:
            block = counts["right_case" if case in right_cases else "wrong_case"]
            block[0] += case in passes
            block[1] += 1
    return (log_sequence_probability(len(right_funcs), len(passed), priors.function_correct)
            + log_sequence_probability(len(right_cases), len(cases), priors.test_correct)
            + log_sequence_probability(*counts["right_case"], priors.wrong_passes_correct)
            + log_sequence_probability(*counts["wrong_case"], priors.wrong_passes_wrong))


def test_b4_scores_match_counting_every_entry_on_random_matrices():
    rng = random.Random(7)
    cases = [f"c{i}" for i in range(6)]
    for _ in range(20):
        passed = {f"f{i}": [c for c in cases if rng.random() < 0.5] for i in range(rng.randint(1, 9))}
        for g in b4_groups(passed, cases, SMALL_PRIORS):
            expected = brute_force_log_joint(passed, cases, set(g.function_ids), set(g.case_ids), SMALL_PRIORS)
            assert math.isclose(g.score, expected, rel_tol=1e-12)


def test_b4_has_nothing_to_go_on_when_no_function_passes_a_case():
    assert b4_groups({"f1": [], "f2": ["x"]}, ["a"], B4Priors()) == []
    assert b4_groups({"f1": ["a"]}, [], B4Priors()) == []


def test_b4_priors_come_from_config_and_reject_what_is_not_a_beta_prior():
    params = Params(strategies=["b4"], b4={"wrong_passes_wrong": {"alpha": 1, "beta": 1e5}})
    assert params.b4.wrong_passes_wrong == BetaPrior(1, 1e5) and params.b4.function_correct == BetaPrior(1000, 1)
    with pytest.raises(ValidationError, match="alpha > 0"):
        Params(strategies=["b4"], b4={"test_correct": {"alpha": 0, "beta": 1}})
    with pytest.raises(ValidationError, match="unexpected_keyword_argument|Unexpected keyword"):
        Params(strategies=["b4"], b4={"test_correct": {"alpha": 1, "beta": 1, "gamma": 2}})
