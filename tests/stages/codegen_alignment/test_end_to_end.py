"""Whole runs: on sim (the crowd, the loop, bad replies), and on CodeT's recorded CodeGen-16B samples."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from engine.llm.sim_backend import handler_for
from engine.testing import SHARED_DATA
from sims.codegen_alignment import teacher as sim_teacher
from tests.conftest import compose_and_run, lineage_problems, table
from tests.stages.row_types import row_type_problems

CODET_FILES = [SHARED_DATA / f"codet_HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_{kind}.jsonl"
               for kind in ("code_solution", "test_case")]
SIM = "codegen_alignment"


@contextmanager
def recorded_prompts():
    """Every message text the sim teacher is asked to answer while the block runs, by task."""
    prompts: dict[str, list[str]] = {name: [] for name in sim_teacher.HANDLERS}

    def recording(name, handler):
        def answer(messages, rng, settings):
            prompts[name] += [m["content"] for m in messages]
            return handler(messages, rng, settings)
        return answer

    with pytest.MonkeyPatch.context() as patch:
        for name, handler in list(sim_teacher.HANDLERS.items()):
            patch.setitem(sim_teacher.HANDLERS, name, recording(name, handler))
        handler_for.cache_clear()  # the backend keeps the handlers it looked up
        try:
            yield prompts
        finally:
            handler_for.cache_clear()


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """One default-sized sim run shared by the tests below (it takes a few seconds), with the prompts it sent."""
    root = tmp_path_factory.mktemp("sim")
    with recorded_prompts() as prompts:
        summary = compose_and_run(SIM, "codegen_alignment.task_limit=8", "codegen_alignment.rounds=3",
                                  run_dir=root / "run", cache_dir=root / "cache")
    return summary, root / "run", prompts


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """known_good=reference_function on the built-in tasks (whose docstring examples are right), with tests wrong
    often enough that some tasks need several rounds, and the prompts it sent."""
    root = tmp_path_factory.mktemp("reference")
    with recorded_prompts() as prompts:
        summary = compose_and_run(SIM, "codegen_alignment.dataset=builtin",
                                  "codegen_alignment.known_good=reference_function", "codegen_alignment.rounds=4",
                                  "++llm.sim.codegen_alignment.wrong_test_rate=0.5",
                                  "++llm.sim.codegen_alignment.trivial_test_rate=0.2",
                                  run_dir=root / "run", cache_dir=root / "cache")
    return summary, root / "run", prompts


def test_sim_run_reports_alignment_precision_and_strategies(sim_run):
    summary, run_dir, _ = sim_run
    assert summary["status"] == "ok", summary["error"]
    report = summary["codegen_alignment"]
    assert report["tasks"] == 8
    assert 0 < report["alignment_at"]["1"] <= 1
    assert set(report["pass_at_1"]) == {"random", "first_aligned", "codet", "codet_sqrt", "b4"}
    assert {g["generator"] for g in report["by_generator"] if g["side"] == "functions"} == {"plain", "stepwise",
                                                                                            "plain_alt"}
    assert (run_dir / "plots" / "alignment_precision.png").stat().st_size > 0
    assert json.loads((run_dir / "summary.json").read_text())["codegen_alignment"]["rounds"] == report["rounds"]


@pytest.mark.parametrize("which", ["sim_run", "reference_run"])
def test_every_row_traces_back_to_its_seed(which, request):
    assert lineage_problems(request.getfixturevalue(which)[1]) == {}


def test_sim_rows_are_marked_simulated_and_joinable_to_their_truth(sim_run):
    _, run_dir, _ = sim_run
    assert table(run_dir, "select bool_and(simulated) from functions") == [(True,)]
    kinds = dict(table(run_dir, "select t.truth::json->>'kind', count(*) from functions f "
                                "join sim_truth t on t.key = f.llm_key group by 1"))
    assert kinds.get("right", 0) > 0 and kinds.get("wrong", 0) > 0


def test_consensus_beats_a_random_sample_on_sim(sim_run):
    summary, _, _ = sim_run
    pass_at_1 = summary["codegen_alignment"]["pass_at_1"]
    assert pass_at_1["codet"] > pass_at_1["random"]


def test_every_round_keeps_its_rows_and_an_aligned_task_stays_aligned(sim_run):
    _, run_dir, _ = sim_run
    rounds = table(run_dir, "select task_id, list(aligned order by iteration) from alignment group by 1")
    for _, flags in rounds:
        assert flags == sorted(flags)  # once aligned, aligned in every later round
    assert table(run_dir, "select count(*) = count(distinct (task_id, iteration)) from alignment") == [(True,)]
    assert table(run_dir, "select count(*) = count(distinct id) from functions") == [(True,)]


def test_every_test_set_is_scored_once_on_the_reference(sim_run):
    summary, run_dir, _ = sim_run
    assert table(run_dir, "select count(*), count(distinct test_set_id) from test_sets_scored") == \
        table(run_dir, "select count(*), count(*) from test_sets")
    generation = summary["codegen_alignment"]["test_generation"]
    assert {g["generator"] for g in generation["by_generator"]} == {"plain", "edge"}
    assert 0 < generation["nontrivial_correct_rate"] < 1  # the sim writes right and wrong tests


def assert_hidden(run_dir, prompts: list[str]) -> None:
    """No ground-truth test, assert of it, or reference body appears in a prompt, and `tasks` (what the generators
    read) has neither."""
    assert prompts
    for ground_truth, reference in table(run_dir, "select ground_truth, reference from tasks_checked"):
        body = reference.split('"""')[-1].strip()
        gt_asserts = [line.strip() for line in ground_truth.splitlines() if line.strip().startswith("assert")]
        for text in prompts:
            assert ground_truth.strip() not in text
            assert not any(a in text for a in gt_asserts)
            assert not body or body not in text
    columns = {c for (c,) in table(run_dir, "select column_name from information_schema.columns "
                                            "where table_name = 'tasks'")}
    assert not columns & {"ground_truth", "reference"}


def test_every_python_stage_states_its_grain_and_declares_its_row_type(sim_run, reference_run):
    assert row_type_problems(sim_run[1], SIM) == {}
    assert row_type_problems(reference_run[1], SIM) == {}


def test_ground_truth_never_reaches_a_prompt(sim_run):
    _, run_dir, recorded = sim_run
    from helpers.codegen_alignment.generation import render

    class Ctx:
        from engine.config import PROJECT_ROOT as project_root

    rendered = [render(f"stages/codegen_alignment/prompts/{name}.txt", Ctx, {"prompt": prompt, "entry_point": entry})
                for name in ("code_plain", "code_stepwise", "tests_plain", "tests_edge", "code_completion",
                             "tests_completion")
                for prompt, entry in table(run_dir, "select prompt, entry_point from tasks")]
    assert recorded["functions"] and recorded["test_sets"]
    assert_hidden(run_dir, rendered + recorded["functions"] + recorded["test_sets"])


def test_with_a_reference_function_only_tests_are_asked_for_and_the_reference_reaches_no_prompt(reference_run):
    summary, run_dir, recorded = reference_run
    assert summary["status"] == "ok", summary["error"]
    assert recorded["functions"] == []
    assert table(run_dir, "select count(*) from llm_calls where task = 'codegen_alignment.functions'") == [(0,)]
    assert_hidden(run_dir, recorded["test_sets"])
    # the known-good functions are the references themselves, made once
    assert table(run_dir, "select bool_and(f.program = t.reference), count(*), count(distinct f.task_id), "
                          "max(f.iteration) from functions f join tasks_checked t using (task_id)") == [(True, 6, 6, 0)]


def test_with_a_reference_function_tests_are_regenerated_each_round_and_scored_on_the_reference(reference_run):
    summary, run_dir, _ = reference_run
    # test sets come every round for the tasks still open, whatever `regenerate` says
    assert table(run_dir, "select max(iteration) > 0 from test_sets") == [(True,)]
    assert table(run_dir, "select count(*) from test_sets s join alignment a on a.task_id = s.task_id "
                          "and a.iteration = s.iteration - 1 where a.aligned") == [(0,)]
    # the sim's asserts are the docstring's examples, some with the expected value changed, or trivial ones; the
    # built-in docstrings are right, so a set passes the reference exactly when it changed nothing
    verdicts = table(run_dir, "select truth::json->>'kind', passes_reference, list_has_all(docstring_asserts, "
                              "list_filter(asserts, (a, i) -> not trivial[i])) from test_sets_scored s "
                              "join test_sets ts on ts.id = s.test_set_id join tasks k on k.task_id = s.task_id "
                              "join sim_truth t on t.key = ts.llm_key")
    assert all(passes == unchanged for _, passes, unchanged in verdicts)
    assert {(kind, passes) for kind, passes, _ in verdicts} >= {("right", True), ("wrong", False)}
    # a task aligned exactly when one of its non-trivial sets passes the reference, in the round it came
    first_correct = dict(table(run_dir, "select task_id, min(round) from test_sets_scored "
                                        "where nontrivial and passes_reference group by 1"))
    aligned_in = dict(table(run_dir, "select task_id, iteration from alignment where aligned_now"))
    assert aligned_in == first_correct


def test_with_a_reference_function_the_report_measures_tests_not_a_precision_of_one(reference_run):
    summary, run_dir, _ = reference_run
    report = summary["codegen_alignment"]
    assert report["known_good"] == "reference_function" and "by construction" in report["by_construction"]
    assert all(v is None for v in report["precision_at"].values())
    assert all(v is None for v in report["pass_at_1"].values())
    generation = report["test_generation"]
    n, correct, trivial = table(run_dir, "select count(*), count(*) filter (where passes_reference), "
                                         "count(*) filter (where not nontrivial) from test_sets_scored")[0]
    assert generation["test_sets"] == n and generation["correct_rate"] == correct / n
    assert generation["trivial_test_rate"] == trivial / n
    assert 0 < generation["correct_rate"] < 1
    assert {g["generator"] for g in generation["by_generator"]} == {"plain", "edge"}
    assert sum(g["n_test_sets"] for g in generation["by_generator"]) == n
    assert json.loads((run_dir / "summary.json").read_text())["codegen_alignment"]["test_generation"] == generation


def test_bad_replies_become_rejected_rows_with_reasons(run_experiment):
    summary, run_dir = run_experiment(
        SIM, "codegen_alignment.dataset=builtin", "codegen_alignment.rounds=2",
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
                                      "codegen_alignment.rounds=1")
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
        "codegen_alignment.rounds=1", "codegen_alignment.functions_per_round=100",
        "codegen_alignment.test_sets_per_round=100")
    assert summary["status"] == "ok", summary["error"]
    made = table(run_dir, "select (select count(*) from functions) + (select count(*) from functions__rejected)")
    assert made == [(2000,)]
    assert table(run_dir, "select bool_or(simulated) from functions") == [(False,)]
    pass_at_1 = summary["codegen_alignment"]["pass_at_1"]
    assert pass_at_1["codet"] > pass_at_1["random"] + 0.05
    assert pass_at_1["codet_sqrt"] > pass_at_1["random"]
