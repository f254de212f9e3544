"""Whole runs: on sim (the crowd, the loop, bad replies), and on CodeT's recorded CodeGen-16B samples."""

from __future__ import annotations

import json

import pytest

from engine.testing import SHARED_DATA
from tests.conftest import compose_and_run, table

CODET_FILES = [SHARED_DATA / f"codet_HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_{kind}.jsonl"
               for kind in ("code_solution", "test_case")]
SIM = "codegen_alignment"


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """One default-sized sim run shared by the tests below (it takes a few seconds)."""
    root = tmp_path_factory.mktemp("sim")
    return compose_and_run(SIM, "codegen_alignment.task_limit=8", "codegen_alignment.max_rounds=3",
                           run_dir=root / "run", cache_dir=root / "cache"), root / "run"


def test_sim_run_reports_alignment_precision_and_strategies(sim_run):
    summary, run_dir = sim_run
    assert summary["status"] == "ok", summary["error"]
    report = summary["codegen_alignment"]
    assert report["tasks"] == 8
    assert 0 < report["alignment_at"]["1"] <= 1
    assert set(report["pass_at_1"]) == {"random", "first_aligned", "codet", "codet_sqrt"}
    assert {g["generator"] for g in report["by_generator"] if g["side"] == "functions"} == {"plain", "stepwise",
                                                                                            "plain_alt"}
    assert (run_dir / "plots" / "alignment_precision.png").stat().st_size > 0
    assert json.loads((run_dir / "summary.json").read_text())["codegen_alignment"]["rounds"] == report["rounds"]


def test_sim_rows_are_marked_simulated_and_joinable_to_their_truth(sim_run):
    _, run_dir = sim_run
    assert table(run_dir, "select bool_and(simulated) from functions") == [(True,)]
    kinds = dict(table(run_dir, "select t.truth::json->>'kind', count(*) from functions f "
                                "join sim_truth t on t.key = f.llm_key group by 1"))
    assert kinds.get("right", 0) > 0 and kinds.get("wrong", 0) > 0


def test_consensus_beats_a_random_sample_on_sim(sim_run):
    summary, _ = sim_run
    pass_at_1 = summary["codegen_alignment"]["pass_at_1"]
    assert pass_at_1["codet"] > pass_at_1["random"]


def test_every_round_keeps_its_rows_and_an_aligned_task_stays_aligned(sim_run):
    _, run_dir = sim_run
    rounds = table(run_dir, "select task_id, list(aligned order by iteration) from alignment group by 1")
    for _, flags in rounds:
        assert flags == sorted(flags)  # once aligned, aligned in every later round
    assert table(run_dir, "select count(*) = count(distinct (task_id, iteration)) from alignment") == [(True,)]
    assert table(run_dir, "select count(*) = count(distinct id) from functions") == [(True,)]


def test_ground_truth_never_reaches_a_prompt(sim_run):
    _, run_dir = sim_run
    prompts = [p for (p,) in table(run_dir, "select distinct messages from llm_calls")] \
        if "messages" in {c for (c,) in table(run_dir, "select column_name from information_schema.columns "
                                                       "where table_name = 'llm_calls'")} else []
    tasks = table(run_dir, "select task_id, ground_truth, reference from tasks_checked")
    from stages.codegen_alignment.generation import render

    class Ctx:
        from engine.config import PROJECT_ROOT as project_root

    rendered = []
    for name in ("code_plain", "code_stepwise", "tests_plain", "tests_edge", "code_completion", "tests_completion"):
        for task_id, _, _ in tasks:
            (prompt, entry) = table(run_dir, f"select prompt, entry_point from tasks where task_id = '{task_id}'")[0]
            rendered.append(render(f"stages/codegen_alignment/prompts/{name}.txt", Ctx,
                                   {"prompt": prompt, "entry_point": entry}))
    for _, ground_truth, reference in tasks:
        body = reference.split('"""')[-1].strip()
        gt_asserts = [line.strip() for line in ground_truth.splitlines() if line.strip().startswith("assert")]
        for text in rendered + prompts:
            assert ground_truth.strip() not in text
            assert not any(a in text for a in gt_asserts)
            assert not body or body not in text
    assert "ground_truth" not in {c for (c,) in table(run_dir, "select column_name from information_schema.columns "
                                                               "where table_name = 'tasks'")}


def test_bad_replies_become_rejected_rows_with_reasons(run_experiment):
    summary, run_dir = run_experiment(
        SIM, "codegen_alignment.dataset=builtin", "codegen_alignment.max_rounds=2",
        "++llm.sim.codegen_alignment.broken_function_rate=0.3", "++llm.sim.codegen_alignment.hang_rate=0.1",
        "++llm.sim.codegen_alignment.no_assert_rate=0.6")
    assert summary["status"] == "ok", summary["error"]
    rejected = summary["stages"]["functions"]["rejected"]
    assert rejected.get("syntax", 0) > 0
    assert summary["stages"]["test_sets"]["rejected"].get("no_asserts", 0) > 0
    hangs = summary["stages"]["executions"]["rejected"].get("timeout", 0)
    assert hangs > 0 and summary["sandbox"]["timeouts"] >= hangs


def test_a_task_whose_reference_fails_its_ground_truth_is_rejected(run_experiment):
    # HumanEval/32 imports random, which the sandbox does not allow: its reference cannot pass
    summary, run_dir = run_experiment(SIM, "codegen_alignment.task_ids=[HumanEval/31,HumanEval/32]",
                                      "codegen_alignment.max_rounds=1")
    assert summary["status"] == "ok", summary["error"]
    assert table(run_dir, "select task_id, reason from tasks_checked__rejected") == [
        ("HumanEval/32", "ground_truth_fails_reference")]
    assert table(run_dir, "select task_id from tasks") == [("HumanEval/31",)]


def test_known_good_docstring_tests_generate_only_functions(run_experiment):
    summary, run_dir = run_experiment(SIM, "codegen_alignment.dataset=builtin",
                                      "codegen_alignment.known_good=docstring_tests")
    assert summary["status"] == "ok", summary["error"]
    assert table(run_dir, "select distinct generator, llm_key is null from test_sets") == [("docstring", True)]
    assert table(run_dir, "select count(*) from llm_calls where task = 'codegen_alignment.test_sets'") == [(0,)]
    assert summary["codegen_alignment"]["aligned_tasks"] > 0


@pytest.mark.skipif(not all(p.is_file() for p in CODET_FILES),
                    reason="CodeT's recorded CodeGen-16B samples are not in ../shared/data")
def test_replay_of_codegen16b_samples_reproduces_consensus_beating_the_average_sample(run_experiment):
    # 20 tasks x 100 functions x 100 test completions, CodeT's own setting: one round, short time limits
    summary, run_dir = run_experiment(
        SIM, "llm=replay", "codegen_alignment.crowd=replay", "codegen_alignment.task_limit=20", "sandbox.timeout_s=0.5",
        "codegen_alignment.max_rounds=1", "codegen_alignment.functions_per_round=100",
        "codegen_alignment.test_sets_per_round=100")
    assert summary["status"] == "ok", summary["error"]
    made = table(run_dir, "select (select count(*) from functions) + (select count(*) from functions__rejected)")
    assert made == [(2000,)]
    assert table(run_dir, "select bool_or(simulated) from functions") == [(False,)]
    pass_at_1 = summary["codegen_alignment"]["pass_at_1"]
    assert pass_at_1["codet"] > pass_at_1["random"] + 0.05
    assert pass_at_1["codet_sqrt"] > pass_at_1["random"]
