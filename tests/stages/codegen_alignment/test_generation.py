"""Which side a round generates: the regeneration policy, and the known-good modes that fix one side."""

from __future__ import annotations

from stages.codegen_alignment.generation import side_generates


def test_round_zero_makes_both_sides_and_later_rounds_follow_the_policy():
    assert side_generates("functions", "tests", "none", 0) and side_generates("tests", "functions", "none", 0)
    assert [side_generates("tests", "alternate", "none", i) for i in (1, 2, 3)] == [True, False, True]
    assert not side_generates("functions", "tests", "none", 1)


def test_a_known_good_side_is_never_generated_and_the_other_is_every_round_whatever_the_policy():
    for i in range(3):
        assert not side_generates("functions", "both", "reference_function", i)
        assert side_generates("tests", "functions", "reference_function", i)
        assert not side_generates("tests", "both", "docstring_tests", i)
        assert side_generates("functions", "tests", "docstring_tests", i)
