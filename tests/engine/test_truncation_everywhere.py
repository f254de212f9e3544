"""A reply cut at max_tokens is never parsed as whole, in any model-calling stage of any experiment: through the
real openai client against a loopback server that cuts a third of its replies (finish_reason "length")."""

from __future__ import annotations

import duckdb
import pytest

from engine.testing.fake_openai import serve_in_thread
from tests.conftest import compose_and_run, table

SIZES = {
    "autoif": ("autoif.augment_calls=1", "autoif.lines_per_call=10", "autoif.queries_per_instruction=2"),
    "prompt_opt": ("prompt_opt.train_size=8", "prompt_opt.heldout_size=12", "prompt_opt.proposals=2"),
    "principle_examples": (),
    "codegen_alignment": (),
}
# prompt_opt's evaluator is asked for the letter first under a small max_tokens and reads only the reply's opening
# (truncation="prefix"): a cut reply is its answer when the letter survived the cut, else not_a_letter
PREFIX_STAGES = {"answers_initial", "answers", "heldout_answers"}


def columns(run_dir, stage: str) -> list[str]:
    return [c for (c,) in table(run_dir, f"select column_name from information_schema.columns "
                                         f"where table_name = '{stage}'")]


def key_columns(run_dir, stage: str) -> list[str]:
    """The columns of a stage table holding response-cache keys (llm_key, critique_key, rewrite_key...)."""
    rows = table(run_dir, f"select column_name from information_schema.columns where table_name = '{stage}' "
                          "and column_name like '%key' and data_type = 'VARCHAR'")
    return [c for (c,) in rows]


# every experiment on the default transport (llm.transport: aiohttp), and one on the official client as well
CASES = [(experiment, "aiohttp") for experiment in sorted(SIZES)] + [("prompt_opt", "sdk")]


@pytest.mark.parametrize(("experiment", "transport"), CASES)
def test_cut_replies_are_truncated_rows_and_no_kept_row_holds_one(experiment, transport, tmp_path):
    with serve_in_thread(fail_rate=0.3, faults=("length",), seed=5) as server:
        summary = compose_and_run(experiment, "llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=test",
                                  f"llm.transport={transport}",
                                  "progress=false", *SIZES[experiment], run_dir=tmp_path / "run",
                                  cache_dir=tmp_path / "cache")
        assert server.server.stats()["faults"].get("length", 0) > 0
    assert summary["status"] == "ok", summary["error"]
    run_dir = tmp_path / "run"
    cut = dict(table(run_dir, "select stage, list(distinct key) from llm_calls where finish_reason = 'length' "
                              "group by stage"))
    assert cut, "the server cut no reply"
    for stage, keys in cut.items():
        if stage in PREFIX_STAGES:
            continue
        # a stage may keep an item whose reply was cut as a failed row that says so (principle_examples counts it
        # against the library version): `failure = 'truncated'`, nothing read from the reply
        said = "failure = 'truncated'" if "failure" in columns(run_dir, stage) else "false"
        [(kept_as_failed,)] = table(run_dir, f"select count(*) from {stage} where {said}")
        truncated = summary["stages"][stage]["rejected"].get("truncated", 0) + kept_as_failed
        assert truncated >= len(keys), f"{stage}: {len(keys)} cut replies, {truncated} truncated rows"
        with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
            for column in key_columns(run_dir, stage):
                [(kept,)] = con.execute(f"select count(*) from {stage} where list_contains(?, {column}) "
                                        f"and not ({said})", [keys]).fetchall()
                assert kept == 0, f"{stage}.{column}: {kept} kept rows hold a cut reply"
