"""Contest programs: the CodeContests source, input/output cases, consensus outputs, and whole sim runs on the shipped
problems (several generators in one table, wrong expected outputs against consensus ones)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.codegen_alignment.contest_tasks import SHIPPED, contest_tasks
from helpers.codegen_alignment.io_cases import case_text, consensus_outputs, is_trivial_case, split_io_cases
from tests.conftest import compose_and_run, lineage_problems, table
from tests.stages.codegen_alignment.test_end_to_end import recorded_prompts

SIM = "codegen_alignment"
CONTEST = ("codegen_alignment.dataset=codecontests", "++llm.sim.codegen_alignment.hang_rate=0")


def test_the_shipped_problems_load_with_hidden_tests_apart_from_the_statement():
    tasks = contest_tasks(None)
    assert len(tasks) == 10 and {t["kind"] for t in tasks} == {"program"}
    record = json.loads(SHIPPED.read_text().splitlines()[0])
    first = tasks[0]
    assert len(first["hidden_tests"]) == len(record["private_tests"]["input"]) + len(record["generated_tests"]["input"])
    assert first["time_limit_s"] == 2.0 and first["memory_mb"] == 256 and first["reference"]
    assert record["public_tests"]["input"][0].rstrip() in first["prompt"]
    assert not any(f"```\n{t['input'].rstrip()}\n```" in first["prompt"] for t in first["hidden_tests"])


def test_a_parquet_copy_reads_like_the_jsonl_and_a_bad_record_is_named(tmp_path):
    records = [json.loads(line) for line in SHIPPED.read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "contest.parquet")
    assert contest_tasks(str(tmp_path / "contest.parquet")) == contest_tasks(None)
    records[0]["private_tests"]["output"].pop()
    (tmp_path / "bad.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    with pytest.raises(ValueError, match=r"record 0 \('execfeed/even_sum'\): private_tests has 4 inputs and 3"):
        contest_tasks(str(tmp_path / "bad.jsonl"))
    with pytest.raises(FileNotFoundError, match="codegen_alignment.dataset_path"):
        contest_tasks(str(tmp_path / "missing.jsonl"))


REPLY = """Here are the tests.

Test 1
Input:
```
2
1 2
```
Output:
```
2
```
**Input:**
```
1
5
```
Output:
```text
0
```
Input:
```
3
```
"""


def test_io_cases_are_read_from_labelled_blocks_with_or_without_outputs():
    assert split_io_cases(REPLY, with_outputs=True) == [case_text("2\n1 2\n", "2\n"), case_text("1\n5\n", "0\n")]
    assert split_io_cases(REPLY, with_outputs=False) == [case_text(i, None) for i in ("2\n1 2\n", "1\n5\n", "3\n")]
    public = [{"input": "2\n1 2\n", "output": "2\n"}]
    assert is_trivial_case(case_text("2\n1  2", "2"), public) and is_trivial_case(case_text(" \n", None), public)
    assert not is_trivial_case(case_text("1\n5\n", "0\n"), public)


def test_a_consensus_output_is_what_most_finished_programs_print():
    printed = {"a": {"x": "1\n", "y": "2"}, "b": {"x": "1", "y": None}, "c": {"x": "3\n", "y": "4"}}
    assert consensus_outputs(printed, ["x", "y"]) == {"x": "1", "y": "2"}  # a tie goes to the smaller text
    assert consensus_outputs({"a": {"z": None}}, ["z"]) == {"z": None}


@pytest.fixture(scope="module")
def contest_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("contest")
    with recorded_prompts() as prompts:
        summary = compose_and_run(SIM, *CONTEST, "codegen_alignment.rounds=2", run_dir=root / "run",
                                  cache_dir=root / "cache")
    return summary, root / "run", prompts


def test_a_sim_run_on_the_shipped_problems_aligns_programs_and_io_tests(contest_run):
    summary, run_dir, _ = contest_run
    assert summary["status"] == "ok", summary["error"]
    report = summary["codegen_alignment"]
    assert report["tasks"] == 10 and report["alignment_at"]["1"] > 0.5
    assert summary["stages"]["tasks_checked"]["rejected"] == {}  # every reference passes its hidden tests
    # both kinds of cases: outputs written by the tester, and inputs whose output the programs' consensus gives
    kinds = dict(table(run_dir, "select generator, bool_and((asserts[1]::json->>'output') is null) "
                                "from test_sets group by 1"))
    assert kinds == {"plain": False, "edge": True}
    assert 0 < report["test_generation"]["nontrivial_correct_rate"] <= 1
    assert lineage_problems(run_dir) == {}


def test_every_role_and_prompt_pair_of_the_crowd_is_scored_in_one_table(contest_run):
    summary, run_dir, _ = contest_run
    pairs = {(g["side"], g["role"], g["prompt"]) for g in summary["codegen_alignment"]["by_generator"]}
    assert pairs == {("functions", "coder", "program_plain"), ("functions", "coder", "program_stepwise"),
                     ("functions", "coder_alt", "program_plain"), ("tests", "tester", "io_tests_written"),
                     ("tests", "tester", "io_tests_inputs")}
    # the strategies choose among every generator's programs of a task
    assert table(run_dir, "select max(n) > 1 from (select count(distinct f.generator) as n from selections s, "
                          "unnest(s.candidates) as c(function_id) join functions f on f.id = c.function_id "
                          "where s.strategy = 'random' group by s.id)") == [(True,)]


def test_no_hidden_test_or_reference_reaches_a_prompt(contest_run):
    _, run_dir, prompts = contest_run
    sent = prompts["functions"] + prompts["test_sets"]
    assert sent
    for reference, hidden in table(run_dir, "select reference, hidden_tests from tasks_checked"):
        assert not any(reference.strip() in text for text in sent)
        assert not any(f"```\n{t['input'].rstrip()}\n```" in text for t in hidden for text in sent)


def precision(tmp_path, name: str, test_generator: str, wrong_output_rate: float) -> float:
    other = {"plain": "edge", "edge": "plain"}[test_generator]
    summary = compose_and_run(
        SIM, *CONTEST, f"~codegen_alignment.crowds.sim.test_generators.{other}", "codegen_alignment.rounds=2",
        "codegen_alignment.functions_per_round=3", "++llm.sim.codegen_alignment.wrong_function_rate=0.4",
        "++llm.sim.codegen_alignment.shared_misreading_rate=1.0",
        f"++llm.sim.codegen_alignment.wrong_output_rate={wrong_output_rate}",
        run_dir=tmp_path / name, cache_dir=tmp_path / "cache")
    assert summary["status"] == "ok", summary["error"]
    report = summary["codegen_alignment"]
    return report["precision_at"][str(report["rounds"])]


def test_wrong_expected_outputs_lower_precision_and_consensus_outputs_recover_it(tmp_path):
    # the sim's wrong outputs come from its one misreading of each problem, which its wrong programs share: a wrong
    # test then aligns with a wrong program. Outputs taken from the programs' consensus do not follow the misreading.
    written_right = precision(tmp_path, "written_right", "plain", 0.0)
    written_wrong = precision(tmp_path, "written_wrong", "plain", 0.5)
    consensus = precision(tmp_path, "consensus", "edge", 0.5)
    assert written_wrong < written_right - 0.1
    assert consensus > written_wrong + 0.1
