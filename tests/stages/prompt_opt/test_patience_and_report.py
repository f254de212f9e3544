"""The stop condition on patience, and the Wilson interval of the report."""

from __future__ import annotations

import pytest

from helpers.common.stats import wilson_interval
from stages.prompt_opt.patience import patience_exhausted


def pool_after(iteration: int, best_after: list[float]) -> list[dict]:
    """The pool at `iteration`: an initial prompt (prompt_iteration null), then one prompt per iteration so far,
    with the given train accuracies."""
    return [{"iteration": iteration, "prompt_iteration": n - 1 if n else None, "train_accuracy": acc}
            for n, acc in enumerate(best_after)]


@pytest.mark.parametrize("accuracies, stop", [
    ([0.5, 0.6], False),  # iteration 0 improved
    ([0.5, 0.5], False),  # one iteration without gain, patience 2
    ([0.5, 0.5, 0.4], True),  # two iterations without gain
    ([0.5, 0.4, 0.7], False),
    ([0.5, 0.7, 0.6, 0.7], True),  # equal is not better
])
def test_patience_counts_iterations_without_a_better_train_accuracy(accuracies, stop):
    iteration = len(accuracies) - 2
    assert patience_exhausted(pool_after(iteration, accuracies), iteration, {"patience": 2}) is stop


def test_patience_reads_only_the_current_iteration_of_the_pool():
    rows = pool_after(0, [0.5, 0.5]) + pool_after(1, [0.5, 0.5, 0.9])
    assert patience_exhausted(rows, 1, {"patience": 1}) is False


def test_wilson_interval_matches_hand_computed_values():
    assert wilson_interval(94, 100) == (0.8752, 0.9722)
    assert wilson_interval(0, 10) == (0.0, 0.2775)
