"""Config mistakes in an experiment's own blocks are refused before any stage runs, at the key the user typed,
with the nearest known key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from engine.config import PROJECT_ROOT
from engine.runner import run


def composed(experiment: str, *overrides: str, tmp_path: Path) -> DictConfig:
    """The config `python -m engine` would get, interpolations unresolved."""
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=[f"+experiment={experiment}", f"cache_dir={tmp_path / 'cache'}",
                                            "progress=false", *overrides])


def refused(experiment: str, *overrides: str, tmp_path: Path) -> str:
    """The error of a run that must stop before its first stage."""
    summary = run(composed(experiment, *overrides, tmp_path=tmp_path), tmp_path / "run")
    assert summary["status"] == "failed"
    assert summary["stages"] == {} and summary["llm"]["calls"] == 0
    assert not (tmp_path / "run" / "run.duckdb").exists()
    return summary["error"]


def test_misspelt_key_added_with_plus_is_refused_with_the_nearest_key(tmp_path):
    error = refused("autoif", "+autoif.score_treshold=9", tmp_path=tmp_path)
    assert error == ("config error at autoif.score_treshold: unknown key: no stage reads it; "
                     "did you mean `score_threshold`?")


@pytest.mark.parametrize(("experiment", "override", "key", "nearest"), [
    ("demo", "+demo.per_rund=2", "demo.per_rund", "per_round"),
    ("prompt_opt", "+prompt_opt.patiense=2", "prompt_opt.patiense", "patience"),
    ("prompt_opt", "+prompt_opt.evaluator.temprature=0", "prompt_opt.evaluator.temprature", "temperature"),
    ("principle_examples", "+principle_examples.teacher.max_token=9", "principle_examples.teacher.max_token",
     "max_tokens"),
    ("principle_examples", "+principle_examples.principle.targte=X", "principle_examples.principle.targte",
     "target"),
    ("codegen_alignment", "+codegen_alignment.round=2", "codegen_alignment.round", "rounds"),
    ("autoif", "+autof.score_threshold=9", "autof", "autoif"),
    ("demo", "+progres=false", "progres", "progress"),
    ("demo", "+sandbox.memroy_mb=600", "sandbox.memroy_mb", "memory_mb"),
    ("demo", "+executor.actor=2", "executor.actor", "actors"),
    ("demo", "+store.reuses=false", "store.reuses", "reuse"),
    ("demo", "+stages.compounds.inptus=[]", "stages.compounds.inptus", "inputs"),
    ("autoif", "+llm.sim.autoif.judge_nosie=2", "llm.sim.autoif.judge_nosie", "judge_noise"),
    ("autoif", "+llm.sim.sed=1", "llm.sim.sed", "seed"),
    ("autoif", "+llm.max_in_flite=3", "llm.max_in_flite", "max_in_flight"),
    ("autoif", "+llm.sampling.max_token=9", "llm.sampling.max_token", "max_tokens"),
    ("autoif", "+roles.judge.sampling.temprature=0", "roles.judge.sampling.temprature", "temperature"),
    ("autoif", "+roles.judge.temprature=0", "roles.judge.temprature", "sampling.temperature"),  # a level too high
    ("autoif", "+roles.jduge.model=x", "roles.jduge", "judge"),  # a role no stage uses
    ("prompt_opt", "+roles.evaluator.max_retry=2", "roles.evaluator.max_retry", "max_retries"),
])
def test_unknown_key_is_refused_in_every_block(tmp_path, experiment, override, key, nearest):
    error = refused(experiment, override, tmp_path=tmp_path)
    assert error.startswith(f"config error at {key}") and f"did you mean `{nearest}`?" in error


def test_stage_param_error_names_the_experiment_key(tmp_path):
    error = refused("autoif", "autoif.score_threshold=11", tmp_path=tmp_path)
    assert error == ("config error at autoif.score_threshold (used as stages.responses_scored.params.score_threshold): "
                     "Input should be less than or equal to 10 (found 11)")


def test_interpolation_of_a_missing_key_is_named_where_it_was_written(tmp_path):
    error = refused("demo", "demo.per_round=${nope}", tmp_path=tmp_path)
    assert error == ("config error at demo.per_round (used as stages.compose.loop.stages.compounds.params.per_round): "
                     "Interpolation key 'nope' not found")


def test_min_chars_above_max_chars_is_refused(tmp_path):
    error = refused("autoif", "autoif.constraint_min_chars=500", "autoif.constraint_max_chars=10", tmp_path=tmp_path)
    assert error.startswith("config error at autoif.constraint_max_chars (used as stages.constraints_augmented.")
    assert "constraint_max_chars (10) is below constraint_min_chars (500)" in error


def test_query_lengths_that_admit_no_query_are_refused(tmp_path):
    error = refused("autoif", "autoif.query_min_chars=50", "autoif.query_max_chars=40", tmp_path=tmp_path)
    assert error.startswith("config error at autoif.query_max_chars (used as stages.queries.params.query_max_chars)")


@pytest.mark.parametrize(("written", "needed"), [
    ("funcs_per_constraint", "min_funcs"),  # AutoIF's published names, mapped to the one names in the block
    ("verifiers_per_constraint", "min_verifiers"),  # the one names, typed directly
])
def test_min_verifiers_above_those_written_is_refused_under_the_key_typed(written, needed, tmp_path):
    error = refused("autoif", f"autoif.{written}=3", f"autoif.{needed}=5", tmp_path=tmp_path)
    assert error.startswith(f"config error at autoif.{needed} (used as stages.verification_thresholds.params.")
    assert "min_verifiers (5) is more than verifiers_per_constraint (3)" in error


@pytest.mark.parametrize(("override", "key", "message"), [
    ("llm.max_in_flight=0", "llm.max_in_flight", "Input should be greater than or equal to 1 (found 0)"),
    ("roles.judge.sampling.temperature=5", "roles.judge.sampling.temperature",
     "Input should be less than or equal to 2 (found 5)"),
])
def test_model_setting_out_of_range_names_the_key_where_it_was_written(tmp_path, override, key, message):
    assert refused("autoif", override, tmp_path=tmp_path) == f"config error at {key}: {message}"


def test_progress_false_turns_off_the_model_bars_too(tmp_path):
    from engine.config import load

    config = load(composed("autoif", tmp_path=tmp_path))
    assert config.llm["progress"] is False
    assert {role: cfg["progress"] for role, cfg in config.roles.items()} == dict.fromkeys(config.roles, False)
