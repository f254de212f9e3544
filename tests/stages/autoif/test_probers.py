"""Which roles write boundary probes is a config choice (autoif.probers), among the roles the probes stage declares:
choosing fewer than it declares leaves no role block unused (the preflight refuses an unused one), a prober it
does not declare or one named twice is refused at autoif.probers before any stage, and on sim each prober the
experiment declares is a model of its own, so that the sets are independent as the remedy needs."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from engine.preflight import check
from tests.engine.test_config_keys import composed, refused
from tests.stages.autoif.test_cross_validation import _probe_filter

PROBERS_KEY = "config error at autoif.probers (used as stages.probes.params.probers): "


@pytest.mark.parametrize("probers", ["[prober]", "[second_prober]", "[prober,second_prober,third_prober]"])
def test_any_choice_of_the_declared_probers_passes_the_preflight(tmp_path, probers):
    config, graph = check(composed("autoif", f"autoif.probers={probers}", tmp_path=tmp_path))
    chosen = probers.strip("[]").split(",")
    assert graph.stages["probes"].params.probers == chosen
    assert graph.stages["verification_thresholds"].params.probers == chosen


def test_a_prober_the_stage_does_not_declare_is_refused_with_the_nearest_role(tmp_path):
    error = refused("autoif", "autoif.probers=[prober,secnd_prober]", tmp_path=tmp_path)
    assert error.startswith(PROBERS_KEY + "prober 'secnd_prober' is not a model role of this stage (llm: [prober, "
                            "second_prober, third_prober]); did you mean `second_prober`?")


def test_a_prober_named_twice_is_refused(tmp_path):
    error = refused("autoif", "autoif.probers=[prober,prober]", tmp_path=tmp_path)
    assert error.startswith(PROBERS_KEY + "a prober is named twice in ['prober', 'prober']")


def test_on_sim_each_declared_prober_is_another_model(tmp_path):
    """The prober is the generator's model (its misreadings are the verifiers'); each other prober plays a model
    of its own (sims/autoif/teacher.py: misreading_model), or a third set would repeat the second's misreadings."""
    roles = OmegaConf.to_container(composed("autoif", tmp_path=tmp_path).roles, resolve=True)
    declared = OmegaConf.to_container(composed("autoif", tmp_path=tmp_path).stages.probes.llm)
    models = [(roles.get(r) or {}).get("sim", {}).get("autoif", {}).get("misreading_model", 0) for r in declared]
    assert declared[0] == "prober" and models[0] == 0
    assert len(set(models)) == len(models)



def _probe_sets(n: int) -> tuple[list[bool], list[int]]:
    """A set of n probes as the prompt asks: half written to follow (True), half to break, every other breaking
    one at the limit."""
    return [i % 2 == 0 for i in range(n)], [i for i in range(n) if i % 4 == 3]


def _misread(n: int, accuracy: float, caught: float) -> str | None:
    """Verifiers sharing a misreading pass every probe at the limit; the prober labelled the first of those as
    following (a wrong label), so there it agrees with them."""
    labels, at_limit = _probe_sets(n)
    mislabelled = [True if i == at_limit[0] else label for i, label in enumerate(labels)]
    passes = [label or i in at_limit for i, label in enumerate(labels)]
    return _probe_filter(accuracy, caught, {("c", "prober"): passes}, labels=mislabelled)["c"]


def test_the_default_probe_rule_keeps_a_set_with_two_wrong_labels_and_catches_a_misreading_one_label_hides(
        tmp_path):
    """Wrong labels make right verifiers disagree: the default keeps a sound constraint with two in a set, not
    three. A misreading whose first probe at the limit was mislabelled still disagrees on the other three; the
    former rule, 8 probes at 0.8, kept it (one disagreement of eight)."""
    block = composed("autoif", tmp_path=tmp_path).autoif
    n, accuracy, caught = block.probes_per_constraint, block.probe_accuracy, block.probe_min_caught
    labels, _ = _probe_sets(n)
    wrong = {("c_sound_two_wrong", "prober"): [label != (i in {0, 5}) for i, label in enumerate(labels)],
             ("c_sound_three_wrong", "prober"): [label != (i in {0, 5, 8}) for i, label in enumerate(labels)]}
    assert _probe_filter(accuracy, caught, wrong, labels=labels) == {"c_sound_three_wrong": "probe_disagreement",
                                                                      "c_sound_two_wrong": None}
    assert _misread(n, accuracy, caught) == "probe_disagreement"
    assert _misread(8, 0.8, caught) is None
