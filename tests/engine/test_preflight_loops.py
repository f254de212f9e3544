"""A loop's stop condition is checked before the first stage: it reads the loop's own stages, and its params are
in range. Otherwise it fails only after the first iteration (and its model calls) has run."""

from __future__ import annotations

import pytest

from tests.engine.test_config_keys import refused

DEMO_UNTIL = "stages.compose.loop.until.sql"


def test_until_sql_reading_a_misspelt_table_suggests_the_loop_stage(tmp_path):
    error = refused("demo", f'{DEMO_UNTIL}="SELECT count(*) >= ${{demo.target_compounds}} FROM compound"',
                    tmp_path=tmp_path)
    assert error == (f"config error at {DEMO_UNTIL}: reads 'compound', which is no stage of this loop nor one run "
                     "before it; did you mean `compounds`?")


def test_until_sql_reading_none_of_the_loop_stages_is_refused(tmp_path):
    error = refused("demo", f'{DEMO_UNTIL}="SELECT count(*) >= ${{demo.target_compounds}} FROM families"',
                    tmp_path=tmp_path)
    assert error == (f"config error at {DEMO_UNTIL}: reads none of the loop's stages (compounds): its answer would "
                     "never change from one iteration to the next")


def test_until_fn_taking_a_table_the_loop_does_not_make_is_refused(tmp_path):
    error = refused("codegen_alignment", "stages.align.loop.until.fn=stages.prompt_opt.patience:patience_exhausted",
                    tmp_path=tmp_path)
    assert error.startswith("config error at stages.align.loop.until.fn: stages.prompt_opt.patience:"
                            "patience_exhausted takes 'pool', which is no stage of this loop (it gets functions, ")


def test_until_params_given_to_a_function_without_params_are_refused(tmp_path):
    error = refused("codegen_alignment", "+stages.align.loop.until.params.limit=3", tmp_path=tmp_path)
    assert error == ("config error at stages.align.loop.until.params: stages.codegen_alignment.alignment:all_aligned "
                     "takes no 'params' argument but params were given")


@pytest.mark.parametrize(("experiment", "override", "used_as"), [
    ("principle_examples", "principle_examples.patience=-1", "stages.rounds.loop.until.params.patience"),
    ("prompt_opt", "prompt_opt.patience=0", "stages.optimise.loop.until.params.patience"),
])
def test_until_param_out_of_range_names_the_experiment_key(tmp_path, experiment, override, used_as):
    error = refused(experiment, override, tmp_path=tmp_path)
    key, value = override.split("=")
    assert error == (f"config error at {key} (used as {used_as}): Input should be greater than or equal to 1 "
                     f"(found {value})")
