"""Fingerprints: a rerun reuses every stage; a changed parameter recomputes that stage and its descendants."""

from __future__ import annotations

import duckdb

from engine.runner import run
from tests.conftest import table

F = "tests.engine.fixture_stages"


def graph(make_config, numbers_file, tmp_path, factor=2, **extra):
    total = tmp_path / "total.sql"
    total.write_text("select sum(n) as total, list(id) as parent_ids from scaled")
    return make_config({
        "numbers": {"source": str(numbers_file)},
        "evens": {"filter": f"{F}:is_even", "inputs": ["numbers"]},
        "scaled": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": factor}},
        "total": {"sql": str(total), "inputs": ["scaled"]},
    }, **extra)


def reused(summary: dict) -> dict[str, bool]:
    return {name: s["reused"] for name, s in summary["stages"].items()}


def test_rerun_with_nothing_changed_reuses_every_stage(make_config, numbers_file, tmp_path):
    first = run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    assert not any(reused(first).values())
    again = run(graph(make_config, numbers_file, tmp_path), tmp_path / "b")  # a new run directory
    assert all(reused(again).values())  # every kind of stage, SQL ones too, comes from the shared stage store
    assert table(tmp_path / "b", "select total from total") == table(tmp_path / "a", "select total from total")
    same_dir = run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    assert all(reused(same_dir).values())


def test_changing_one_param_recomputes_only_that_stage_and_descendants(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    summary = run(graph(make_config, numbers_file, tmp_path, factor=5), tmp_path / "a")
    assert reused(summary) == {"numbers": True, "evens": True, "scaled": False, "total": False}
    assert table(tmp_path / "a", "select total from total") == [(225,)]
    assert table(tmp_path / "a", "select count(*) from scaled") == [(10,)]  # old slice replaced, not appended


def test_changing_the_source_file_recomputes_everything(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    numbers_file.write_text(numbers_file.read_text() + '{"n": 10, "label": "n10"}\n')
    summary = run(graph(make_config, numbers_file, tmp_path), tmp_path / "b")
    assert not any(reused(summary).values())


def test_non_result_knobs_do_not_change_fingerprints(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path, llm={"max_in_flight": 4}), tmp_path / "a")
    summary = run(graph(make_config, numbers_file, tmp_path, llm={"max_in_flight": 64}, progress=True),
                  tmp_path / "a")
    assert all(reused(summary).values())


def test_a_stage_can_ask_not_to_be_stored(make_config, numbers_file, tmp_path):
    cfg = graph(make_config, numbers_file, tmp_path)
    cfg["stages"]["total"]["store"] = False
    run(cfg, tmp_path / "a")
    assert reused(run(cfg, tmp_path / "b")) == {"numbers": True, "evens": True, "scaled": True, "total": False}
    assert table(tmp_path / "b", "select total from total") == table(tmp_path / "a", "select total from total")


def test_a_stage_reused_in_a_fresh_directory_can_be_recomputed_there(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "b")  # its tables come from the store
    summary = run(graph(make_config, numbers_file, tmp_path, factor=5), tmp_path / "b")
    assert reused(summary) == {"numbers": True, "evens": True, "scaled": False, "total": False}
    assert table(tmp_path / "b", "select total from total") == [(225,)]
    assert table(tmp_path / "b", "select count(*) from scaled") == [(10,)]  # the view replaced, not appended to


def test_a_slice_left_without_its_record_is_replaced(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "b")
    with duckdb.connect(str(tmp_path / "b" / "run.duckdb")) as con:  # as if killed between writing and recording
        con.execute("DELETE FROM _stages")
    summary = run(graph(make_config, numbers_file, tmp_path), tmp_path / "b")
    assert summary["status"] == "ok" and all(reused(summary).values())
    assert table(tmp_path / "b", "select count(*) from numbers") == [(10,)]


def test_reuse_off_recomputes(make_config, numbers_file, tmp_path):
    run(graph(make_config, numbers_file, tmp_path), tmp_path / "a")
    summary = run(graph(make_config, numbers_file, tmp_path, store={"reuse": False}), tmp_path / "b")
    assert not any(reused(summary).values())


def test_a_reused_stage_brings_its_sim_ground_truth(make_config, numbers_file, tmp_path):
    cfg = make_config({"numbers": {"source": str(numbers_file)},
                       "echoed": {"fn": f"{F}:echoed", "inputs": ["numbers"], "llm": ["teacher"]}},
                      llm={"backend": "sim", "progress": False}, roles={"teacher": {}})
    first = run(cfg, tmp_path / "a")
    again = run(cfg, tmp_path / "b")
    assert again["stages"]["echoed"]["reused"] and again["llm"]["calls"] == 0
    q = "select key, truth from sim_truth order by key"
    assert table(tmp_path / "b", q) == table(tmp_path / "a", q)
    assert len(table(tmp_path / "a", q)) == first["stages"]["echoed"]["rows_out"] == 10
