"""The paths a user switches to by config: NLI by a local sequence classifier (hf), and the original's strict
score comparison (`>`)."""

from __future__ import annotations

import pytest

from engine.testing.tiny_models import build_tiny_nli_classifier
from stages.autoif.nli import LABELS
from tests.conftest import compose_and_run, table

SMALL = ("autoif.augment_calls=1", "autoif.lines_per_call=10", "autoif.queries_per_instruction=2")


@pytest.fixture(scope="module")
def classify_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("autoif_alt")
    model = build_tiny_nli_classifier(base / "nli_model")
    summary = compose_and_run("autoif", *SMALL, "autoif.nli_method=classify", "+roles.nli.backend=hf",
                              f"+roles.nli.model={model}", "autoif.score_comparison='>'",
                              run_dir=base / "run", cache_dir=base / "cache")
    return summary, base / "run"


def test_nli_by_a_local_classifier_labels_every_back_translation(classify_run):
    summary, run_dir = classify_run
    assert summary["status"] == "ok", summary["error"]
    labels = table(run_dir, "select label, count(*) from nli group by label")
    assert labels and {label for label, _ in labels} <= set(LABELS)
    assert sum(n for _, n in labels) == table(run_dir, "select count(*) from back_translations")[0][0]
    # a contradiction drops the constraint, whatever model said it
    dropped = table(run_dir, "select count(*) from constraints_aligned__rejected where reason = 'contradiction'")[0][0]
    contradicted = table(run_dir, "select count(distinct constraint_id) from nli where label = 'contradiction'")[0][0]
    assert dropped == contradicted


def test_strict_score_comparison_keeps_only_scores_above_the_threshold(classify_run):
    summary, run_dir = classify_run
    scores = [s for (s,) in table(run_dir, "select score from responses_scored")]
    assert scores and min(scores) > 8
    at_threshold = table(run_dir, "select count(*) from responses_scored__rejected "
                                  "where reason = 'below_score_threshold' and score = 8")[0][0]
    assert at_threshold > 0  # the rows that `>=` would have kept are the ones `>` rejected
