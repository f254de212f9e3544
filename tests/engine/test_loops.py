"""Loops repeat a group of stages; every iteration's rows are kept, tagged `iteration`."""

from __future__ import annotations

from engine.runner import run
from tests.conftest import table

F = "tests.engine.fixture_stages"


def loop_config(make_config, tmp_path, **loop):
    start = tmp_path / "start.jsonl"
    start.write_text('{"total": 0}\n')
    return make_config({
        "start": {"source": str(start)},
        "grow_loop": {"loop": {"init": {"state": "start"}, "stages": {
            "state": {"fn": f"{F}:grow", "inputs": ["state@prev"], "params": {"step": 5}}}, **loop}},
        "final": {"filter": f"{F}:total_is_even", "inputs": {"state": "state@last"}},
    })


def test_loop_runs_to_its_limit_and_tags_iterations(make_config, tmp_path):
    summary = run(loop_config(make_config, tmp_path, max_iterations=4), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    assert table(tmp_path / "run", "select iteration, total from state order by iteration") == [
        (0, 5), (1, 10), (2, 15), (3, 20)]
    assert summary["loops"] == {"grow_loop": {"iterations": 4}}


def test_prev_carries_state_and_lineage(make_config, tmp_path):
    run(loop_config(make_config, tmp_path, max_iterations=3), tmp_path / "run")
    rows = dict(table(tmp_path / "run", "select iteration, parent_ids from state"))
    ids = dict(table(tmp_path / "run", "select iteration, id from state"))
    assert rows[0][0].startswith("start:")
    assert rows[1] == [ids[0]] and rows[2] == [ids[1]]


def test_loop_stops_on_sql_condition(make_config, tmp_path):
    summary = run(loop_config(make_config, tmp_path, max_iterations=10,
                              until={"sql": "select max(total) >= 15 from state"}), tmp_path / "run")
    assert summary["loops"]["grow_loop"]["iterations"] == 3
    assert table(tmp_path / "run", "select count(*) from state") == [(3,)]


def test_loop_stops_on_callable_condition(make_config, tmp_path):
    summary = run(loop_config(make_config, tmp_path, max_iterations=10,
                              until={"fn": f"{F}:stop_at", "params": {"limit": 10}}), tmp_path / "run")
    assert summary["loops"]["grow_loop"]["iterations"] == 2


def test_last_reads_the_final_iteration(make_config, tmp_path):
    run(loop_config(make_config, tmp_path, max_iterations=3), tmp_path / "run")
    # total 15 is odd: the only row `final` sees is rejected
    assert table(tmp_path / "run", "select total from final__rejected") == [(15,)]


def test_rerun_in_same_directory_with_fewer_iterations_drops_the_rest(make_config, tmp_path):
    run(loop_config(make_config, tmp_path, max_iterations=4), tmp_path / "run")
    summary = run(loop_config(make_config, tmp_path, max_iterations=2), tmp_path / "run")
    assert summary["stages"]["state"]["reused"] is True
    assert table(tmp_path / "run", "select max(iteration) from state") == [(1,)]
