"""Config mistakes are found before any work, with one error naming the config key."""

from __future__ import annotations

import json

import pytest

from engine.config import ConfigError, load
from engine.graph import build
from engine.runner import run

F = "tests.engine.fixture_stages"


def check(cfg: dict) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        build(load(cfg))
    return err.value


def test_unknown_input_names_the_key(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "evens": {"filter": f"{F}:is_even", "inputs": ["numberz"]}}))
    assert err.key == "stages.evens.inputs[0]"
    assert "unknown stage 'numberz'" in str(err) and "numbers" in str(err)


def test_missing_sql_file(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "totals": {"sql": "sql/nowhere/totals.sql", "inputs": ["numbers"]}}))
    assert err.key == "stages.totals.sql" and "not found" in str(err)


def test_missing_callable(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"map": f"{F}:no_such_function", "inputs": ["numbers"]}}))
    assert err.key == "stages.x.map" and "no function 'no_such_function'" in str(err)


def test_missing_module(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"map": "tests.nowhere:f", "inputs": ["numbers"]}}))
    assert err.key == "stages.x.map" and "cannot import module" in str(err)


def test_cycle_is_named(make_config, tmp_path):
    sql = tmp_path / "s.sql"
    sql.write_text("select 1 as x")
    err = check(make_config({"a": {"sql": str(sql), "inputs": ["b"]}, "b": {"sql": str(sql), "inputs": ["a"]}}))
    assert "cycle" in str(err) and "a -> b -> a" in str(err)


def test_wrong_param_type_names_the_param(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": "lots"}}}))
    assert err.key == "stages.x.params.factor" and "integer" in str(err)


def test_threshold_out_of_range_names_the_param(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": 0}}}))
    assert err.key == "stages.x.params.factor" and "greater than or equal to 1" in str(err)


def test_unknown_param_rejected(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"map": f"{F}:scaled", "inputs": ["numbers"],
                                   "params": {"factor": 2, "factr": 3}}}))
    assert err.key == "stages.x.params.factr"


def test_unknown_stage_key_rejected(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file), "inptus": []}}))
    assert err.key == "stages.numbers.inptus"


def test_two_kinds_rejected(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file), "sql": "x.sql"}}))
    assert err.key == "stages.numbers" and "exactly one of" in str(err)


def test_sql_syntax_error_found_at_start(make_config, numbers_file, tmp_path):
    sql = tmp_path / "bad.sql"
    sql.write_text("selec n from numbers")
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "bad": {"sql": str(sql), "inputs": ["numbers"]}}))
    assert err.key == "stages.bad.sql" and "does not parse" in str(err)


def test_sql_stage_must_be_a_select(make_config, numbers_file, tmp_path):
    sql = tmp_path / "drop.sql"
    sql.write_text("drop table numbers")
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "bad": {"sql": str(sql), "inputs": ["numbers"]}}))
    assert "exactly one SELECT" in str(err)


def test_function_arguments_must_match_inputs(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"fn": f"{F}:wrong_args", "inputs": ["numbers"]}}))
    assert err.key == "stages.x.inputs" and "something_else" in str(err)


def test_unknown_role_rejected(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"fn": f"{F}:parity", "inputs": ["numbers"], "llm": ["judge"]}}))
    assert err.key == "stages.x.llm" and "unknown role 'judge'" in str(err)


def test_prev_needs_same_loop(make_config, numbers_file):
    err = check(make_config({"numbers": {"source": str(numbers_file)},
                             "x": {"fn": f"{F}:parity", "inputs": {"numbers": "numbers@prev"}}}))
    assert "same loop" in str(err)


def test_failed_config_writes_summary_and_does_no_work(make_config, numbers_file, tmp_path):
    run_dir = tmp_path / "run"
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "x": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": -1}}}), run_dir)
    assert summary["status"] == "failed" and "stages.x.params.factor" in summary["error"]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "failed"
    assert not (run_dir / "run.duckdb").exists()


def test_bad_model_config_stops_the_run_before_any_call(make_config, numbers_file, tmp_path):
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "echoed": {"fn": f"{F}:echoed", "inputs": ["numbers"], "llm": ["teacher"]}},
                              llm={"backend": "sim", "max_in_flight": "many"}, roles={"teacher": {}}),
                  tmp_path / "run")
    # written in the shared llm group, not in the role's block: the error names it where it was written
    assert summary["status"] == "failed" and "config error at llm.max_in_flight:" in summary["error"]
    assert not (tmp_path / "run" / "run.duckdb").exists()
