"""verification_thresholds refuses a `min_cases` the verifier replies are not asked to reach: nothing caps the cases
a reply writes, so the bound is the prompt's (one true and one false case from each verifier written), and a run
beyond it would depend on the model writing more than asked. Refused before any stage, at the key typed."""

from __future__ import annotations

from engine.preflight import check
from tests.engine.test_config_keys import composed, refused


def test_min_cases_beyond_what_the_verifiers_are_asked_for_is_refused(tmp_path):
    error = refused("autoif", "autoif.funcs_per_constraint=3", "autoif.min_cases=7", tmp_path=tmp_path)
    assert error == ("config error at autoif.min_cases (used as stages.verification_thresholds.params.min_cases): "
                     "min_cases (7) is more than the 6 cases the verifier prompt asks of the 3 verifiers written per "
                     "constraint (at least one true and one false case each): only replies writing more cases than "
                     "asked could keep a constraint; write more verifiers per constraint or lower min_cases (found 7)")


def test_min_cases_the_verifiers_are_asked_for_passes(tmp_path):
    _, graph = check(composed("autoif", "autoif.funcs_per_constraint=3", "autoif.min_cases=6", tmp_path=tmp_path))
    assert graph.stages["verification_thresholds"].params.min_cases == 6
