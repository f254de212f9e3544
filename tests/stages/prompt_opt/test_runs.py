"""prompt_opt end to end: on sim from the default start, its stop conditions, bad data, no logprobs, and
through the loopback OpenAI-compatible server."""

from __future__ import annotations

import json

from engine.config import PROJECT_ROOT
from engine.testing.fake_openai import serve_in_thread
from tests.conftest import lineage_problems, table
from tests.stages.row_types import row_type_problems

SMALL = ("prompt_opt.train_size=8", "prompt_opt.heldout_size=12", "prompt_opt.proposals=2")
CLEANING_REASONS = {"echo", "empty", "overlong", "duplicate"}


def test_default_run_on_sim_gains_on_heldout_over_the_best_initial_prompt(run_experiment):
    summary, run_dir = run_experiment("prompt_opt")
    assert summary["status"] == "ok", summary["error"]
    section = summary["prompt_opt"]
    assert section["heldout_n"] == 100
    assert section["heldout_gain"] >= 0.2, section
    low, high = section["heldout_ci95"]
    assert low < section["heldout_accuracy"] < high
    assert section["cross_entropy_from"].keys() == {"top_logprobs"} and "note" not in section
    assert (run_dir / "plots" / "training_curve.png").stat().st_size > 0
    assert [p["iterations_run"] for p in section["curve"]] == list(range(section["iterations_run"] + 1))
    # every proposal the cleaner refused has its reason; every candidate knows its iteration and parents
    assert set(summary["stages"]["candidates"]["rejected"]) <= CLEANING_REASONS
    assert table(run_dir, "select count(*) from prompts_ranked where origin = 'generated' "
                          "and (prompt_iteration is null or len(parent_prompt_ids) = 0)") == [(0,)]
    for name, key in (("prompts_ranked", "id"), ("items_split", "id"), ("answers", "iteration, id"),
                      ("heldout_scored", "prompt_id")):
        assert table(run_dir, f"select count(*) - count(distinct ({key})) from {name}") == [(0,)]
    assert lineage_problems(run_dir) == {}
    assert row_type_problems(run_dir, "prompt_opt") == {}


def test_only_the_prompt_chosen_on_train_and_the_initial_baseline_are_measured_on_heldout(run_experiment):
    summary, run_dir = run_experiment("prompt_opt", *SMALL, "prompt_opt.rounds=2", "prompt_opt.patience=5")
    assert summary["status"] == "ok", summary["error"]
    [(chosen,)] = table(run_dir, "select id from prompts_ranked where train_rank = 1")
    [(initial,)] = table(run_dir, "select id from prompts_ranked where origin = 'initial' order by train_rank limit 1")
    assert table(run_dir, "select count(*) from prompts_ranked") > [(2,)]  # other prompts were there to measure
    measured = {p for (p,) in table(run_dir, "select distinct prompt_id from heldout_answers")}
    assert measured == {chosen, initial}
    assert table(run_dir, "select count(distinct key) = count(*) from llm_calls where stage = 'heldout_answers'") == \
        [(True,)]  # each (prompt, item) asked once
    section = summary["prompt_opt"]
    assert [p["best_heldout_accuracy"] is not None for p in section["curve"]] == [False, False, True]
    assert section["curve"][-1]["best_heldout_accuracy"] == section["heldout_accuracy"]


def test_loop_stops_after_its_rounds(run_experiment):
    summary, _ = run_experiment("prompt_opt", *SMALL, "prompt_opt.rounds=2", "prompt_opt.patience=5",
                                "prompt_opt.meta=opro", "prompt_opt.strategy=random")
    assert summary["status"] == "ok", summary["error"]
    assert summary["loops"]["optimise"]["iterations"] == 2
    assert summary["prompt_opt"]["iterations_run"] == 2


def test_loop_stops_on_patience_goes_on_without_candidates_and_pays_once_per_prompt(run_experiment):
    summary, run_dir = run_experiment("prompt_opt", *SMALL, "prompt_opt.rounds=6", "prompt_opt.patience=2",
                                      "llm.sim.prompt_opt.echo_rate=1.0")
    assert summary["status"] == "ok", summary["error"]
    assert summary["loops"]["optimise"]["iterations"] == 2
    assert summary["stages"]["candidates"]["rejected"] == {"echo": 4}
    assert summary["prompt_opt"]["heldout_gain"] == 0.0
    assert table(run_dir, "select count(*) from prompts_ranked") == [(4,)]
    # held-out is read once, after the rounds: the best prompt is the best initial one, 12 items, one call each
    assert table(run_dir, "select count(*), count(*) filter (where cache_hit) from llm_calls "
                          "where stage = 'heldout_answers'") == [(12, 0)]
    assert table(run_dir, "select key from llm_calls where attempt > 0 group by key having count(*) > 1") == []


def test_bad_items_are_rejected_with_their_reason(run_experiment, tmp_path):
    lines = (PROJECT_ROOT / "sample_data/multiple_choice.jsonl").read_text().splitlines()[:20]
    three = json.loads(lines[0]) | {"id": "three", "options": {"A": "x", "B": "y", "C": "z"}}
    blank = json.loads(lines[1]) | {"id": "blank", "options": {"A": "x", "B": "", "C": "z", "D": "w"}}
    letter = json.loads(lines[2]) | {"id": "letter_e", "answer": "E"}
    data = tmp_path / "mc.jsonl"
    data.write_text("\n".join([*lines[3:], *(json.dumps(x) for x in (three, blank, letter))]) + "\n")
    summary, run_dir = run_experiment("prompt_opt", f"prompt_opt.data={data}", "prompt_opt.train_size=8",
                                      "prompt_opt.heldout_size=20", "prompt_opt.rounds=1")
    assert summary["status"] == "ok", summary["error"]
    assert sorted(table(run_dir, "select source_id, reason from items_valid__rejected")) == [
        ("blank", "not_four_options"), ("letter_e", "answer_not_a_to_d"), ("three", "not_four_options")]
    assert table(run_dir, "select count(*) from items_heldout") == [(9,)]  # as many as the data allows


def test_without_logprobs_cross_entropy_comes_from_sampled_answers(run_experiment):
    summary, run_dir = run_experiment("prompt_opt", *SMALL, "prompt_opt.rounds=1",
                                      "prompt_opt.evaluator.logprobs=false", "prompt_opt.evaluator.fallback_samples=4")
    assert summary["status"] == "ok", summary["error"]
    section = summary["prompt_opt"]
    assert section["cross_entropy_from"].keys() == {"sampled"} and "sampled answers" in section["note"]
    assert table(run_dir, "select count(distinct sample_index) from llm_calls where stage = 'answers_initial'") \
        == [(5,)]


def test_end_to_end_through_the_loopback_server_with_logprobs(run_experiment):
    with serve_in_thread() as server:
        openai = [f"+roles.{role}.{k}={v}" for role in ("evaluator", "generator") for k, v in (
            ("backend", "openai"), ("model", "fake-model"), ("base_url", server.base_url), ("api_key", "test"))]
        summary, run_dir = run_experiment("prompt_opt", *SMALL, "prompt_opt.rounds=2", *openai)
        requests = server.server.requests
    assert summary["status"] == "ok", summary["error"]
    assert requests == summary["llm"]["calls"] - summary["llm"]["cache_hits"] > 0
    assert table(run_dir, "select distinct backend from llm_calls") == [("openai",)]
    assert table(run_dir, "select distinct ce_source from answers_initial") == [("top_logprobs",)]
    assert summary["prompt_opt"]["cross_entropy_from"].keys() == {"top_logprobs"}
