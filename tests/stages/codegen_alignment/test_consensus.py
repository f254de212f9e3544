"""Alignment and CodeT ranking on hand-made matrices, against values computed by hand."""

from __future__ import annotations

import math

from stages.codegen_alignment.consensus import TestSet, aligned_pairs, codet_groups, expected_pass, top_choice


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
    scores = {g.func_ids: g.score for g in groups}
    # {a,b}: (2 + 1) * 2 = 6; {a,b,c}: 6 * 1 = 6; {c}: 3 * 1 = 3; f5 passes nothing and is not ranked
    assert scores == {("f1", "f2"): 6, ("f3",): 6, ("f4",): 3}
    assert top_choice(groups) == (["f1", "f2", "f3"], 6)  # tied groups are merged, as CodeT does


def test_codet_sqrt_weighs_group_size_by_its_square_root():
    groups = codet_groups(PASSED, WEIGHT, sqrt=True)
    scores = {g.func_ids: g.score for g in groups}
    assert math.isclose(scores[("f1", "f2")], 3 * math.sqrt(2))
    assert scores[("f3",)] == 6
    assert top_choice(groups) == (["f3"], 6)


def test_cases_outside_the_weights_do_not_count():
    groups = codet_groups({"f1": ["x", "a"]}, {"a": 1}, sqrt=False)
    assert [(g.func_ids, g.case_ids, g.score) for g in groups] == [(("f1",), frozenset({"a"}), 1)]


def test_nothing_ranked_gives_no_candidates():
    assert top_choice(codet_groups({"f1": []}, WEIGHT, sqrt=False)) == ([], 0.0)


def test_expected_pass_is_the_share_of_correct_candidates():
    assert expected_pass(["f1", "f2", "f3"], {"f1": True, "f2": False, "f3": True}) == 2 / 3
    assert expected_pass([], {}) == 0.0
