"""SQL and Python stages materialise as tables; filters keep their rejects with a reason."""

from __future__ import annotations

from engine.runner import run
from tests.conftest import table

F = "tests.engine.fixture_stages"


def test_python_and_sql_stages_become_tables(make_config, numbers_file, tmp_path):
    sql = tmp_path / "total.sql"
    sql.write_text("select sum(n) as total, list(id) as parent_ids from scaled")
    summary = run(make_config({
        "numbers": {"source": str(numbers_file)},
        "scaled": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": 3}},
        "total": {"sql": str(sql), "inputs": ["scaled"]},
    }), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    assert table(tmp_path / "run", "select sum(n) from scaled") == [(135,)]
    assert table(tmp_path / "run", "select total, len(parent_ids) from total") == [(135, 10)]
    assert summary["stages"]["scaled"]["rows_in"] == 10 and summary["stages"]["scaled"]["rows_out"] == 10


def test_source_rows_get_ids_and_keep_their_own_as_source_id(make_config, tmp_path):
    src = tmp_path / "with_ids.jsonl"
    src.write_text('{"id": "a", "x": 1}\n{"id": "b", "x": 2}\n')
    run(make_config({"rows": {"source": str(src)}}), tmp_path / "run")
    rows = table(tmp_path / "run", "select id, source_id, parent_ids from rows order by source_id")
    assert [r[1] for r in rows] == ["a", "b"]
    assert all(r[0].startswith("rows:") and r[2] == [] for r in rows)


def test_text_source_is_one_row_per_line(make_config, tmp_path):
    src = tmp_path / "lines.txt"
    src.write_text("first line, with a comma\n\n  second \"quoted\" line\n")
    run(make_config({"lines": {"source": str(src)}}), tmp_path / "run")
    assert table(tmp_path / "run", "select text from lines order by text") == [
        ("first line, with a comma",), ('second "quoted" line',)]


def test_dropped_rows_keep_their_reason(make_config, numbers_file, tmp_path):
    summary = run(make_config({
        "numbers": {"source": str(numbers_file)},
        "evens": {"filter": f"{F}:is_even", "inputs": ["numbers"]},
    }), tmp_path / "run")
    assert table(tmp_path / "run", "select count(*) from evens") == [(5,)]
    assert table(tmp_path / "run", "select distinct reason from evens__rejected") == [("odd",)]
    # a kept or rejected row is the input row itself: same id, same columns
    assert table(tmp_path / "run", "select count(*) from evens__rejected r join numbers n using (id)") == [(5,)]
    assert summary["stages"]["evens"]["rejected"] == {"odd": 5}


def test_fn_stage_rejects_with_detail(make_config, numbers_file, tmp_path):
    run(make_config({"numbers": {"source": str(numbers_file)},
                     "evens": {"fn": f"{F}:parity", "inputs": ["numbers"]}}), tmp_path / "run")
    assert table(tmp_path / "run", "select detail from evens__rejected where n = 3") == [("3 is odd",)]


def test_sql_stage_rejects_through_a_reason_column(make_config, numbers_file, tmp_path):
    sql = tmp_path / "small.sql"
    sql.write_text("select *, case when n >= 7 then 'too_big' end as reason from numbers")
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "small": {"sql": str(sql), "inputs": ["numbers"]}}), tmp_path / "run")
    assert table(tmp_path / "run", "select count(*) from small") == [(7,)]
    assert summary["stages"]["small"]["rejected"] == {"too_big": 3}
    assert "reason" not in [r[0] for r in table(tmp_path / "run", "describe small")]


def test_a_row_that_raises_names_the_stage_and_row(make_config, numbers_file, tmp_path):
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "checked": {"map": f"{F}:fragile", "inputs": ["numbers"]}}), tmp_path / "run")
    assert summary["status"] == "failed"
    bad_id = table(tmp_path / "run", "select id from numbers where n = 3")[0][0]
    assert "stage 'checked'" in summary["error"] and bad_id in summary["error"]
    assert "three is not allowed" in summary["error"]
    # the finished table stays
    assert table(tmp_path / "run", "select count(*) from numbers") == [(10,)]


def test_max_errors_turns_raising_rows_into_rejects(make_config, numbers_file, tmp_path):
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "checked": {"map": f"{F}:fragile", "inputs": ["numbers"], "max_errors": 1}}),
                  tmp_path / "run")
    assert summary["status"] == "ok"
    assert summary["stages"]["checked"]["errors"] == 1
    assert table(tmp_path / "run", "select reason, detail from checked__rejected") == [
        ("error", "ValueError: three is not allowed")]


def test_sql_runtime_error_names_the_stage(make_config, numbers_file, tmp_path):
    sql = tmp_path / "q.sql"
    sql.write_text("select no_such_column from numbers")
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "q": {"sql": str(sql), "inputs": ["numbers"]}}), tmp_path / "run")
    assert summary["status"] == "failed" and "stage 'q'" in summary["error"] and "no_such_column" in summary["error"]


def test_duplicate_ids_are_an_error(make_config, numbers_file, tmp_path):
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "dup": {"fn": f"{F}:twice", "inputs": ["numbers"]}}), tmp_path / "run")
    assert summary["status"] == "failed" and "appears twice" in summary["error"]


def test_mixed_column_types_are_named(make_config, numbers_file, tmp_path):
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "mixed": {"fn": f"{F}:mixed_types", "inputs": ["numbers"]}}), tmp_path / "run")
    assert summary["status"] == "failed" and "v ['int', 'str']" in summary["error"]


def test_ids_are_unique_and_stable_across_runs(make_config, numbers_file, tmp_path):
    cfg = make_config({"numbers": {"source": str(numbers_file)},
                       "scaled": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": 2}}},
                      store={"reuse": False})
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    ids_a = table(tmp_path / "a", "select id from scaled order by id")
    assert ids_a == table(tmp_path / "b", "select id from scaled order by id")
    assert len(set(ids_a)) == 10


def test_a_filter_that_rejects_everything_leaves_a_typed_empty_table(make_config, numbers_file, tmp_path):
    sql = tmp_path / "labels.sql"
    sql.write_text("select label from nothing")
    summary = run(make_config({
        "numbers": {"source": str(numbers_file)},
        "nothing": {"filter": f"{F}:reject_all", "inputs": ["numbers"]},
        "labels": {"sql": str(sql), "inputs": ["nothing"]},
    }), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    assert summary["stages"]["nothing"]["rows_out"] == 0
    assert "label" in [r[0] for r in table(tmp_path / "run", "describe nothing")]


def test_empty_lists_and_nulls_become_text_columns(make_config, numbers_file, tmp_path):
    run(make_config({"numbers": {"source": str(numbers_file)},
                     "blank": {"fn": f"{F}:blanks", "inputs": ["numbers"]}}), tmp_path / "run")
    types = dict((r[0], r[1]) for r in table(tmp_path / "run", "describe blank"))
    assert types["tags"] == "VARCHAR[]" and types["note"] == "VARCHAR"


def test_sql_stage_params_arrive_as_variables(make_config, numbers_file, tmp_path):
    sql = tmp_path / "big.sql"
    sql.write_text("select * from numbers where n >= getvariable('min_n')")
    cfg = make_config({"numbers": {"source": str(numbers_file)},
                       "big": {"sql": str(sql), "inputs": ["numbers"], "params": {"min_n": 7}}})
    run(cfg, tmp_path / "run")
    assert table(tmp_path / "run", "select count(*) from big") == [(3,)]
    cfg["stages"]["big"]["params"]["min_n"] = 5  # a param change recomputes the SQL stage
    summary = run(cfg, tmp_path / "run")
    assert not summary["stages"]["big"]["reused"]
    assert table(tmp_path / "run", "select count(*) from big") == [(5,)]


def test_an_empty_output_takes_the_declared_row_type(make_config, numbers_file, tmp_path):
    sql = tmp_path / "lefts.sql"
    sql.write_text("select first, tags from pairs")
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "pairs": {"fn": f"{F}:no_pairs", "inputs": ["numbers"]},
                               "lefts": {"sql": str(sql), "inputs": ["pairs"]}}), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    types = dict((r[0], r[1]) for r in table(tmp_path / "run", "describe pairs"))
    assert types["first"] == "BIGINT" and types["tags"] == "VARCHAR[]" and types["note"] == "VARCHAR"


def test_an_all_rejected_output_takes_the_declared_row_type_not_the_rejected_rows_columns(make_config, numbers_file,
                                                                                           tmp_path):
    sql = tmp_path / "lefts.sql"
    sql.write_text("select first, tags from pairs")
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "pairs": {"fn": f"{F}:pairs_all_rejected", "inputs": ["numbers"]},
                               "lefts": {"sql": str(sql), "inputs": ["pairs"]}}), tmp_path / "run")
    assert summary["status"] == "ok", summary["error"]
    assert summary["stages"]["pairs"]["rejected"] == {"no_pair": 10} and summary["stages"]["lefts"]["rows_out"] == 0
    assert {"first", "tags", "note"} <= {r[0] for r in table(tmp_path / "run", "describe pairs")}


def test_sql_on_an_empty_stage_without_a_row_type_names_the_cause(make_config, numbers_file, tmp_path):
    sql = tmp_path / "lefts.sql"
    sql.write_text("select first from nothing")
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "nothing": {"fn": f"{F}:nothing_undeclared", "inputs": ["numbers"]},
                               "lefts": {"sql": str(sql), "inputs": ["nothing"]}}), tmp_path / "run")
    assert summary["status"] == "failed"
    assert "'nothing' is empty and has no columns of its own: declare its stage's row type" in summary["error"]


def test_an_internal_error_still_writes_a_failed_summary_and_keeps_finished_tables(make_config, numbers_file,
                                                                                   tmp_path, monkeypatch):
    import engine.runner

    real_commit = engine.runner.mat.commit

    def broken_commit(con, stage, *args, **kwargs):
        if stage.name == "evens":
            raise RuntimeError("disk on fire")
        return real_commit(con, stage, *args, **kwargs)

    monkeypatch.setattr(engine.runner.mat, "commit", broken_commit)
    summary = run(make_config({"numbers": {"source": str(numbers_file)},
                               "evens": {"filter": f"{F}:is_even", "inputs": ["numbers"]}}), tmp_path / "run")
    assert summary["status"] == "failed" and "internal error: RuntimeError: disk on fire" in summary["error"]
    assert (tmp_path / "run" / "summary.json").is_file()
    assert table(tmp_path / "run", "select count(*) from numbers") == [(10,)]
