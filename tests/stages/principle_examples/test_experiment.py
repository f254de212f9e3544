"""The experiment end to end on sim (several rounds, one shared run) and through the loopback server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from engine.config import PROJECT_ROOT
from engine.llm.client import LLM
from engine.testing.fake_openai import serve_in_thread
from helpers.principle_examples.checker import acrostic_check
from tests.conftest import compose_and_run, lineage_problems, table
from tests.stages.row_types import row_type_problems

GENERATION_STAGES = {"failure_analysis", "human_prompts", "student_answers", "candidates"}
TEST_PROMPTS = [json.loads(line)["human_prompt"] for line in (PROJECT_ROOT / "sample_data/principle_test.jsonl").open()]


def run_principle(run_dir: Path, cache_dir: Path, *overrides: str) -> dict:
    return compose_and_run("principle_examples", *overrides, run_dir=run_dir, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """Three rounds on sim, with a validation file holding two broken rows, recording every prompt each stage
    sends (by stage name)."""
    tmp = tmp_path_factory.mktemp("principle")
    validation = tmp / "validation.jsonl"
    shipped = (PROJECT_ROOT / "sample_data/principle_validation.jsonl").read_text()
    validation.write_text(shipped + '{"human_prompt": "What is rust?"}\n{"human_prompt": " ", "model_answer": "x"}\n')
    sent: list[tuple[str, str]] = []
    original = LLM.complete

    def recording(self, requests, desc=None):
        sent.extend((self.stage, json.dumps(r.messages)) for r in requests)
        return original(self, requests, desc=desc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LLM, "complete", recording)
        summary = run_principle(tmp / "run", tmp / "cache", "principle_examples.rounds=3",
                                f"principle_examples.validation={validation}")
    return summary, tmp / "run", sent, tmp


def test_run_succeeds_chooses_on_validation_and_reports_test_for_the_chosen_version_only(sim_run):
    summary, run_dir, _, _ = sim_run
    assert summary["status"] == "ok", summary["error"]
    section = summary["principle_examples"]
    versions = section["versions"]
    assert [v["version"] for v in versions] == [0, 1, 2, 3]
    for v in versions:
        assert 0 <= v["validation_low"] <= v["validation_pass_rate"] <= v["validation_high"] <= 1
    [best] = [v for v in versions if v["is_best"]]
    assert best["validation_pass_rate"] == max(v["validation_pass_rate"] for v in versions)
    assert section["best_version"] == best["version"]
    assert 0 <= section["best_test_interval"][0] <= section["best_test_pass_rate"] <= section["best_test_interval"][1]
    assert section["best_test_n"] == len(TEST_PROMPTS)
    assert all(not k.startswith("test") for v in versions for k in v)  # no other version has a test figure
    assert (run_dir / "plots" / "pass_rate_per_version.png").stat().st_size > 0
    assert summary["principle_examples"]["checker_agreement"]["agree"] > 0.95


def test_every_python_stage_states_its_grain_and_declares_its_row_type(sim_run):
    assert row_type_problems(sim_run[1], "principle_examples") == {}


def test_every_row_traces_back_to_its_seed(sim_run):
    assert lineage_problems(sim_run[1]) == {}


def test_validation_rows_missing_fields_are_rejected_and_the_run_goes_on(sim_run):
    _, run_dir, _, _ = sim_run
    assert table(run_dir, "select reason, count(*) from items__rejected group by reason") == [("missing_field", 2)]
    assert table(run_dir, "select count(*) from items where split = 'validation'") == [(40,)]


def test_versions_are_linked_and_immutable(sim_run):
    _, run_dir, _, _ = sim_run
    rows = table(run_dir, "select version, parent_version, example_ids, added_ids from versions_ranked order by 1")
    examples = {}
    for version, parent, ids, added in rows:
        content = dict(table(run_dir, f"select example_id, rewrite || human_prompt from library_versions "
                                      f"where version = {version}"))
        assert sorted(content) == sorted(ids)
        if parent is not None:
            assert parent == version - 1
            assert sorted(ids) == sorted(set(examples[parent]) | set(added))
            assert all(examples[parent][i] == content[i] for i in examples[parent])  # unchanged when carried over
        examples[version] = content


def test_library_holds_only_compliant_non_duplicate_examples(sim_run):
    _, run_dir, _, _ = sim_run
    for version, rewrites, prompts in table(run_dir, "select version, list(rewrite), list(human_prompt) "
                                                     "from library_versions group by version"):
        assert all(acrostic_check(r, "ADAPTIVE").passed for r in rewrites)
        assert all(fuzz.token_sort_ratio(a.lower(), b.lower()) < 90 for i, a in enumerate(prompts)
                   for b in prompts[i + 1:]), version
    reasons = dict(table(run_dir, "select reason, count(*) from candidates_checked__rejected group by 1"))
    assert set(reasons) <= {"not_compliant"} and reasons
    letters = table(run_dir, "select detail from candidates_checked__rejected")
    assert all(d.startswith("letters ") and d != "letters ADAPTIVE" for (d,) in letters)
    added = table(run_dir, "select count(*) from examples_added")[0][0]
    assert added == table(run_dir, "select count(*) from library_versions where added_in_version = version "
                                   "and version > 0")[0][0]


def test_test_set_never_reaches_a_generation_prompt(sim_run):
    _, _, sent, _ = sim_run
    generation = [text for stage, text in sent if stage in GENERATION_STAGES]
    tested = [text for stage, text in sent if stage == "evaluation_test"]
    assert generation and {stage for stage, _ in sent} >= GENERATION_STAGES
    leaked = [p for p in TEST_PROMPTS if any(json.dumps(p)[1:-1] in text for text in generation)]
    assert leaked == []
    assert all(any(json.dumps(p)[1:-1] in text for text in tested) for p in TEST_PROMPTS)  # the check can fail


def test_only_the_version_chosen_on_validation_is_measured_on_test_once(sim_run):
    summary, run_dir, sent, _ = sim_run
    measured = [text for stage, text in sent if stage in ("evaluation_seed", "evaluation")]
    assert measured and not [p for p in TEST_PROMPTS if any(json.dumps(p)[1:-1] in text for text in measured)]
    assert table(run_dir, "select distinct split from evaluation_seed union select distinct split "
                          "from evaluation") == [("validation",)]
    # one critique per test item, for one version: the one versions_ranked chose
    critiques = [text for stage, text in sent if stage == "evaluation_test" and text.count('"role"') == 2]
    assert len(critiques) == len(TEST_PROMPTS)
    [(best,)] = table(run_dir, "select version from versions_ranked where is_best")
    assert table(run_dir, "select distinct version, split from evaluation_test") == [(best, "test")]
    [(examples,)] = table(run_dir, f"select list(rewrite) from library_versions where version = {best}")
    assert all(all(json.dumps(r)[1:-1] in text for r in examples) for text in critiques)
    [(version, n, passed)] = table(run_dir, "select version, test_n, test_passed from chosen_version_test")
    assert (version, n) == (best, len(TEST_PROMPTS))
    assert round(passed / n, 4) == summary["principle_examples"]["best_test_pass_rate"]
    assert passed == table(run_dir, "select count(*) from evaluation_test where passed")[0][0]


def test_every_version_is_exported_in_the_original_field_names(sim_run):
    _, run_dir, _, _ = sim_run
    exports = run_dir / "exports"
    for version, examples, is_best in table(run_dir, "select version, examples, is_best from versions_ranked"):
        lines = [json.loads(x) for x in (exports / f"principle_examples_v{version}.jsonl").read_text().splitlines()]
        assert len(lines) == examples
        assert all({"human_prompt", "assistant_answer", "critique", "rewrite", "id"} <= set(x) for x in lines)
        if is_best:
            assert (exports / "principle_examples_best.jsonl").read_text() == \
                (exports / f"principle_examples_v{version}.jsonl").read_text()


def test_more_rounds_reuse_earlier_versions_unchanged(sim_run):
    summary, run_dir, _, tmp = sim_run
    before = table(run_dir, "select * from versions order by version")
    validation = tmp / "validation.jsonl"
    again = run_principle(run_dir, tmp / "cache", "principle_examples.rounds=4",
                          f"principle_examples.validation={validation}")
    after = table(run_dir, "select * from versions order by version")
    assert again["stages"]["evaluation_seed"]["reused"] and after[: len(before)] == before
    assert len(after) in (len(before), len(before) + 1)  # the stop condition may end the rounds first


def test_another_target_word_rejects_the_adaptive_seeds(tmp_path):
    summary = run_principle(tmp_path / "run", tmp_path / "cache", "principle_examples.rounds=1",
                            "principle_examples.principle.target=CLEAR")
    assert summary["status"] == "ok", summary["error"]
    assert table(tmp_path / "run", "select reason, detail from library_seed__rejected")[0] == (
        "not_compliant", "letters ADAPTIVE")
    assert summary["principle_examples"]["versions"][0]["examples"] == 0


def test_llm_judge_checker_runs_through_the_teacher(tmp_path):
    summary = run_principle(tmp_path / "run", tmp_path / "cache", "principle_examples.rounds=1",
                            "principle_examples.principle.checker.kind=llm_judge")
    assert summary["status"] == "ok", summary["error"]
    judged = table(tmp_path / "run", "select count(*) filter (where failure is null), "
                                     "count(*) filter (where judge_key <> '') from evaluation")
    assert judged[0][0] > 0 and judged[0][0] == judged[0][1]


def test_end_to_end_through_the_loopback_server(tmp_path):
    with serve_in_thread(fail_rate=0.05, faults=("rate_limit", "server_error"), seed=1) as server:
        summary = run_principle(tmp_path / "run", tmp_path / "cache", "principle_examples.rounds=1", "llm=openai",
                                f"llm.base_url={server.base_url}", "llm.api_key=test", "llm.model=sim-teacher",
                                "llm.backoff_s=0.01")
        requests = server.server.requests
    assert summary["status"] == "ok", summary["error"]
    assert summary["llm"]["retries"] > 0 and summary["llm"]["failures"] == 0
    assert requests >= summary["llm"]["calls"] - summary["llm"]["cache_hits"]
    assert [v["version"] for v in summary["principle_examples"]["versions"]] == [0, 1]
    # the openai backend recognises the loopback server's sim fingerprint: rows stay marked as simulated
    assert table(tmp_path / "run", "select bool_and(simulated) from evaluation") == [(True,)]
