"""Every bad input of a new user's first runs, on the command line against the loopback server: exit status 1,
the mistake in one line at the key the user typed (and the file and line), no traceback on the terminal or in
engine.log, no stage run and no request sent. An internal error still prints its traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT, ConfigError
from engine.runner import run
from engine.testing.fake_openai import serve_in_thread, stats
from tests.engine.test_config_keys import refused

F = "tests.engine.fixture_stages"

# (id, experiment, overrides, the error); {tmp} is the test's directory, where the data files are written
CASES = [
    ("misspelt_key", "autoif", ["+autoif.score_treshold=9"],
     "config error at autoif.score_treshold: unknown key: no stage reads it; did you mean `score_threshold`?"),
    ("out_of_range", "autoif", ["autoif.score_threshold=11"],
     "config error at autoif.score_threshold (used as stages.responses_scored.params.score_threshold): "
     "Input should be less than or equal to 10 (found 11)"),
    ("min_above_max", "autoif", ["autoif.constraint_min_chars=500", "autoif.constraint_max_chars=10"],
     "config error at autoif.constraint_max_chars (used as stages.constraints_augmented.params.constraint_max_chars): "
     "constraint_max_chars (10) is below constraint_min_chars (500): every text would be rejected (found 10)"),
    ("min_verifiers_unreachable", "autoif", ["autoif.funcs_per_constraint=3", "autoif.min_funcs=5"],
     "config error at autoif.min_funcs (used as stages.verification_thresholds.params.min_verifiers): "
     "min_verifiers (5) is more than verifiers_per_constraint (3), the verifiers written per constraint: every "
     "constraint would be rejected (found 5)"),
    ("blank_seed_file", "autoif", ["autoif.seed_constraints={tmp}/blank.txt"],
     "config error at autoif.seed_constraints (used as stages.seed_constraints.source): {tmp}/blank.txt has no rows: "
     "it is empty or holds only blank lines"),
    ("cut_jsonl_line", "autoif", ["autoif.user_queries={tmp}/cut.jsonl"],
     "config error at autoif.user_queries (used as stages.user_queries.source): {tmp}/cut.jsonl line 2: not valid "
     "JSON (Unterminated string starting at: column 11)"),
    ("latin1_bytes", "autoif", ["autoif.user_queries={tmp}/latin1.jsonl"],
     "config error at autoif.user_queries (used as stages.user_queries.source): {tmp}/latin1.jsonl line 2: not "
     "UTF-8 (byte 0xe9 at column 15); save the file as UTF-8"),
    ("sandbox_memory", "autoif", ["sandbox.memory_mb=32"],
     "config error at sandbox.memory_mb: Input should be greater than or equal to 64 (found 32)"),
    ("unused_role", "autoif", ["+roles.jduge.model=gpt-4o"],
     "config error at roles.jduge: unknown role: no stage uses it; did you mean `judge`?"),
    ("model_key_typo", "autoif", ["+roles.judge.sampling.temprature=0"],
     "config error at roles.judge.sampling.temprature: unknown key; did you mean `temperature`?"),
    ("until_param", "principle_examples", ["principle_examples.patience=-1"],
     "config error at principle_examples.patience (used as stages.rounds.loop.until.params.patience): "
     "Input should be greater than or equal to 1 (found -1)"),
    ("dataset_without_its_file", "codegen_alignment", ["codegen_alignment.dataset=mbpp"],
     "config error at codegen_alignment.dataset_path (used as stages.tasks_loaded.params.dataset_path): dataset "
     "'mbpp' needs your JSONL copy as a file here; point dataset_path at it, or use dataset=builtin (found None)"),
    ("missing_template", "prompt_opt", ["prompt_opt.evaluator.question_template=nope.txt"],
     "config error at prompt_opt.evaluator.question_template (used as stages.answers_initial.params."
     "question_template): cannot read prompt template nope.txt: No such file or directory (found 'nope.txt')"),
    ("template_placeholder_typo", "prompt_opt", ["prompt_opt.evaluator.question_template={tmp}/question.txt"],
     "config error at prompt_opt.evaluator.question_template (used as stages.answers_initial.params."
     "question_template): {tmp}/question.txt: unknown placeholder {{qestion}}; this template may use {{A}}, {{B}}, "
     "{{C}}, {{D}}, {{context}}, {{question}} (found '{tmp}/question.txt')"),
    ("missing_prompt_file", "autoif", ["stages.responses_scored.params.prompt=stages/autoif/prompts/judge2.txt"],
     "config error at stages.responses_scored.params.prompt: cannot read prompt template "
     "stages/autoif/prompts/judge2.txt: No such file or directory (found 'stages/autoif/prompts/judge2.txt')"),
    ("report_typo", "autoif", ["report=reports.autoif.report:reprt"],
     "config error at report: module 'reports.autoif.report' has no function 'reprt'"),
    ("unwritable_cache_dir", "autoif", ["cache_dir={tmp}/a_file/cache"],
     "config error at cache_dir: cannot write to {tmp}/a_file/cache: Not a directory"),
]


def engine(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXECFEED_CACHE_DIR": str(tmp_path / "cache"), **env}
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def server():
    with serve_in_thread() as running:
        yield running


def write_bad_files(tmp: Path) -> None:
    (tmp / "blank.txt").write_text("\n  \n\n")
    (tmp / "cut.jsonl").write_text('{"query": "a"}\n{"query": "b\n')
    (tmp / "latin1.jsonl").write_bytes('{"query": "a"}\n{"query": "café"}\n'.encode("latin-1"))
    (tmp / "a_file").write_text("")
    (tmp / "question.txt").write_text("{qestion}\nA) {A}\nB) {B}\nC) {C}\nD) {D}\n")


@pytest.mark.parametrize(("experiment", "overrides", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_stops_the_command_before_any_stage_or_request(tmp_path, server, experiment, overrides, error):
    write_bad_files(tmp_path)
    before = stats(server.base_url)
    run_dir = tmp_path / "run"
    res = engine(f"+experiment={experiment}", "llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=x",
                 *(o.format(tmp=tmp_path) for o in overrides), f"hydra.run.dir={run_dir}", tmp_path=tmp_path)
    expected = error.format(tmp=tmp_path)
    assert res.returncode == 1, res.stderr
    assert expected in res.stderr
    assert "Traceback" not in res.stderr + (run_dir / "engine.log").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["error"] == expected and summary["stages"] == {} and summary["llm"]["calls"] == 0
    assert not (run_dir / "run.duckdb").exists()
    after = stats(server.base_url)
    assert (after["requests"], after["answered"], after["batches"]) == \
        (before["requests"], before["answered"], before["batches"])


def test_missing_api_key_stops_the_command_before_any_stage(tmp_path, server):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    run_dir = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "engine", "+experiment=autoif", "llm=openai",
                          f"llm.base_url={server.base_url}", f"hydra.run.dir={run_dir}"], capture_output=True,
                         text=True, cwd=PROJECT_ROOT, env={**env, "EXECFEED_CACHE_DIR": str(tmp_path / "cache")},
                         timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr + (run_dir / "engine.log").read_text()
    assert "config error at llm.api_key: role 'generator' uses the openai backend, but the key is null and " \
           "OPENAI_API_KEY is not set" in res.stderr
    assert not (run_dir / "run.duckdb").exists()


@pytest.mark.parametrize(("overrides", "start"), [
    (["store=ducklake", "store.catalog='host=127.0.0.1 port=1'", "store.data_path={tmp}/lake"],
     "config error at store.catalog: cannot open the DuckLake stage store: "),
    (["executor=ray", "executor.address=ray://127.0.0.1:1"],
     "config error at executor.address: cannot connect to the Ray cluster: "),
], ids=["ducklake_catalog_down", "ray_cluster_down"])
def test_a_store_or_cluster_that_does_not_answer_is_named(tmp_path, overrides, start):
    pytest.importorskip("ray")
    run_dir = tmp_path / "run"
    res = engine("+experiment=demo", *(o.format(tmp=tmp_path) for o in overrides), f"hydra.run.dir={run_dir}",
                 tmp_path=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr + (run_dir / "engine.log").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["error"].startswith(start)
    assert not (run_dir / "run.duckdb").exists()


def test_ducklake_without_its_catalog_says_which_variable_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("EXECFEED_DUCKLAKE_CATALOG", raising=False)
    monkeypatch.delenv("EXECFEED_DUCKLAKE_DATA", raising=False)
    assert refused("demo", "store=ducklake", tmp_path=tmp_path) == (
        "config error at store: store=ducklake needs store.catalog (a PostgreSQL connection, or the environment "
        "variable EXECFEED_DUCKLAKE_CATALOG) and store.data_path (or EXECFEED_DUCKLAKE_DATA)")


def test_run_into_an_unwritable_directory_names_it(tmp_path, make_config, numbers_file):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError) as err:  # no place for a summary: the caller gets the error itself
        run(make_config({"numbers": {"source": str(numbers_file)}}), tmp_path / "a_file" / "run")
    assert str(err.value) == f"config error at hydra.run.dir: cannot write to {tmp_path / 'a_file' / 'run'}: " \
                             "Not a directory"


def test_an_internal_error_is_logged_with_its_traceback(tmp_path, make_config, numbers_file, monkeypatch, caplog):
    import engine.runner

    def broken_commit(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine.runner.mat, "commit", broken_commit)
    with caplog.at_level(logging.ERROR, logger="engine"):
        summary = run(make_config({"numbers": {"source": str(numbers_file)},
                                   "evens": {"filter": f"{F}:is_even", "inputs": ["numbers"]}}), tmp_path / "run")
    raised_at = f"{Path(__file__).relative_to(PROJECT_ROOT)}:{broken_commit.__code__.co_firstlineno + 1}"
    assert summary["error"] == f"internal error: RuntimeError: disk on fire (at {raised_at} in broken_commit)"
    (record,) = [r for r in caplog.records if r.getMessage() == "internal error"]
    assert record.exc_info is not None  # the traceback says where: the frame that raised
    assert "broken_commit" in caplog.text and "Traceback" in caplog.text
