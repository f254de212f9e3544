"""The whole AutoIF graph on sim at a small size: funnel, keys, filter quality, exports a trainer can load, and
every exported response re-checked by its verifiers in the sandbox."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from engine.sandbox import Job, Sandbox
from tests.conftest import compose_and_run, lineage_problems, table
from tests.stages.row_types import row_type_problems

SMALL = ("autoif.augment_calls=1", "autoif.lines_per_call=10", "autoif.queries_per_instruction=2")
KEYS = {"constraints": "id", "verifier_samples": "id", "verifier_matrix": "verifier_id, case_id",
        "constraints_verified": "id", "verifiers_kept": "id", "queries": "constraint_id, query_id",
        "responses": "query_row_id, sample", "responses_scored": "id"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("autoif")
    return compose_and_run("autoif", *SMALL, run_dir=base / "run", cache_dir=base / "cache"), base / "run"


def test_the_graph_runs_on_sim_and_every_stage_produces_rows(quick_run):
    summary, run_dir = quick_run
    assert summary["status"] == "ok", summary["error"]
    for stage in ("constraints", "verifiers_kept", "constraints_aligned", "responses_verified", "responses_scored"):
        assert summary["stages"][stage]["rows_out"] > 0, stage
    assert summary["stages"]["constraints"]["rejected"].get("duplicate", 0) > 0
    assert (run_dir / "plots" / "funnel.png").is_file() and (run_dir / "plots" / "filter_quality.png").is_file()


def test_a_rerun_in_a_fresh_directory_reuses_every_stage_and_writes_the_same_files(quick_run):
    _, run_dir = quick_run
    fresh = run_dir.with_name("rerun")
    again = compose_and_run("autoif", *SMALL, run_dir=fresh, cache_dir=run_dir.with_name("cache"))
    assert again["status"] == "ok", again["error"]
    assert [name for name, s in again["stages"].items() if not s["reused"]] == []
    for folder in ("exports", "plots"):
        first = {p.relative_to(run_dir): p.read_bytes() for p in (run_dir / folder).rglob("*") if p.is_file()}
        assert first, folder
        assert {p.relative_to(fresh): p.read_bytes() for p in (fresh / folder).rglob("*") if p.is_file()} == first


@pytest.mark.parametrize("stage", sorted(KEYS))
def test_each_table_key_is_unique(quick_run, stage):
    _, run_dir = quick_run
    key = KEYS[stage]
    assert table(run_dir, f"select count(*) from (select {key} from {stage} group by all having count(*) > 1)") \
        == [(0,)]


def test_lineage_has_no_row_that_is_its_own_parent_and_every_parent_exists(quick_run):
    _, run_dir = quick_run
    assert lineage_problems(run_dir) == {}


def test_every_python_stage_states_its_grain_and_the_columns_it_declares_are_its_tables(quick_run):
    _, run_dir = quick_run
    # response_checks checks responses and probes alike, each row keeping the columns of the row it checks
    assert row_type_problems(run_dir, "autoif", passing_through={"response_checks", "probe_checks"}) == {}


def test_filter_quality_is_reported_for_steps_3_5_7_and_8(quick_run):
    summary, _ = quick_run
    quality = summary["filter_quality"]
    for step in ("cross_validate_verifiers", "cross_validate_constraints", "nli", "verify", "score"):
        assert quality[step]["n_good"] + quality[step]["n_bad"] > 0, step
    assert quality["verify"]["bad_removed"] > 0.8 and quality["cross_validate_verifiers"]["bad_removed"] > 0.5
    curve = summary["threshold_curves"]["pass_threshold"]
    assert curve["1.0"]["bad_removed"] >= curve["any (> 0)"]["bad_removed"]


def test_rejected_rows_keep_their_reasons(quick_run):
    _, run_dir = quick_run
    reasons = dict(table(run_dir, "select reason, count(*) from verifiers_kept__rejected group by reason"))
    assert set(reasons) <= {"constraint_dropped", "forbidden_attempt", "does_not_compile", "low_accuracy"} and reasons
    # replies nothing could read were re-asked once, and the re-ask read: code with asserts needs none
    assert table(run_dir, "select count(*) > 0 from verifier_samples where reasked") == [(True,)]
    rejected = table(run_dir, "select count(*) from information_schema.tables "
                              "where table_name = 'verifier_samples__rejected'")[0][0]
    assert not rejected or table(run_dir, "select count(*) from verifier_samples__rejected "
                                          "where reason = 'parse_error' and detail = ''") == [(0,)]
    assert set(table(run_dir, "select distinct reason from constraints_probed__rejected")) <= {
        ("not_discriminating",), ("probe_disagreement",), ("not_probed",)}


def test_exports_load_with_the_fields_trl_and_llama_factory_expect(quick_run):
    _, run_dir = quick_run
    folder = run_dir / "exports"
    alpaca = json.loads((folder / "autoif_alpaca.json").read_text())
    assert alpaca and all(isinstance(r[k], str) for r in alpaca for k in ("instruction", "input", "output"))
    messages = [json.loads(line) for line in (folder / "autoif_messages.jsonl").read_text().splitlines()]
    assert len(messages) == len(alpaca)
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in messages)
    dpo = [json.loads(line) for line in (folder / "autoif_dpo.jsonl").read_text().splitlines()]
    assert dpo and all(isinstance(r[k], str) and r[k] for r in dpo for k in ("prompt", "chosen", "rejected"))
    parquet = pq.read_table(folder / "autoif_sft.parquet").to_pylist()
    assert len(parquet) == len(alpaca)
    for record in alpaca + messages + dpo:
        assert record["id"] and record["simulated"] is True and record["lineage"]["constraint_id"]


def test_every_exported_response_passes_its_verifiers_when_rechecked(quick_run):
    _, run_dir = quick_run
    codes = dict(table(run_dir, "select id, code from verifiers_kept"))
    alpaca = json.loads((run_dir / "exports" / "autoif_alpaca.json").read_text())
    jobs = [Job(codes[v], "evaluate", (r["output"],)) for r in alpaca for v in r["lineage"]["verifier_ids"]]
    assert jobs
    with Sandbox(workers=2, timeout_s=2.0, cache="off") as sb:
        outcomes = sb.run(jobs, expect_bool=True)
    assert all(o.status == "ok" and o.value is True for o in outcomes)
