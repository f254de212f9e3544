"""The dataset card (exports/hf/README.md): a header huggingface_hub and datasets read as the Hub does, and a body
that says what made the data: models per role, the funnel with its rejection reasons, filter quality, config,
engine version, lineage. A rerun that reuses every stage writes the same card."""

from __future__ import annotations

import datasets
import pytest
from huggingface_hub import DatasetCard

from engine.config import PROJECT_ROOT
from engine.dataset_card import public_path, size_category
from engine.fingerprint import ENGINE_VERSION
from tests.conftest import compose_and_run
from tests.engine.conftest import EXPORTING


def card_of(run_dir) -> DatasetCard:
    return DatasetCard.load(run_dir / "exports/hf/README.md")


@pytest.mark.parametrize("experiment", EXPORTING)
def test_the_header_declares_configs_features_licence_and_size_as_the_hub_reads_them(exported_run, experiment):
    _, run_dir = exported_run(experiment)
    card = card_of(run_dir)
    hf = datasets.load_from_disk(str(run_dir / "exports/hf"))
    assert card.data.license == "other" and card.data.pretty_name == f"execfeed {experiment}"
    assert card.data.size_categories == [size_category(sum(ds.num_rows for ds in hf.values()))]
    declared = {(c["config_name"], f["split"]): f["path"] for c in card.data.configs for f in c["data_files"]}
    assert declared == {(ds.info.config_name, ds.split): f"{name}/data-*.arrow" for name, ds in hf.items()}
    for info in card.data.dataset_info:
        parts = [ds for ds in hf.values() if ds.info.config_name == info["config_name"]]
        assert datasets.Features._from_yaml_list(info["features"]) == parts[0].features
        assert [(s["name"], s["num_examples"]) for s in info["splits"]] == [(ds.split, ds.num_rows) for ds in parts]


def test_the_card_renders_the_funnel_with_every_rejection_reason(exported_run):
    summary, run_dir = exported_run("autoif")
    text = card_of(run_dir).text
    for name, stage in summary["stages"].items():
        reasons = ", ".join(f"{r}: {n}" for r, n in sorted(stage["rejected"].items(), key=lambda x: -x[1]))
        assert f"| {name} | {stage['rows_in']} | {stage['rows_out']} | {reasons or '-'} |" in text
    assert summary["stages"]["responses_scored"]["rejected"]["below_score_threshold"] > 0


def test_the_card_says_what_made_the_data(exported_run):
    summary, run_dir = exported_run("autoif")
    text = card_of(run_dir).text
    assert "| judge | sim | sim-teacher | online | 0 |" in text and "| generator | sim | sim-teacher |" in text
    verify = summary["filter_quality"]["verify"]
    assert f"| verify | {verify['n_good']} | {verify['n_bad']} | {verify['good_kept']} |" in text
    assert "## Config" in text and "score_threshold: 8" in text and "funcs_per_constraint: 5" in text
    assert f"engine version {ENGINE_VERSION}" in text
    assert "`constraint_parent_ids` (the seed or augmented line of the constraint)" in text
    rows = sum(stage["rows_out"] for name, stage in summary["stages"].items() if name == "exports")
    assert f"**{rows} of {rows} rows were written by execfeed's simulated teacher**" in text
    assert "api_key" not in text
    assert str(run_dir.parents[1]) not in text and str(PROJECT_ROOT) not in text  # no path of this machine


def test_a_card_names_local_models_and_files_without_the_machines_paths():
    assert public_path("/root/.cache/execfeed/models/SmolLM2-135M-Instruct/") == "SmolLM2-135M-Instruct"
    assert public_path("~/models/smollm2.gguf") == "smollm2.gguf"
    seeds = f"seed_file: {PROJECT_ROOT}/sample_data/seeds.txt\nn: 3"
    assert public_path(seeds) == "seed_file: sample_data/seeds.txt\nn: 3"
    assert public_path("sources: ['/home/bob/data/q.jsonl', /srv/x.txt]") == "sources: ['q.jsonl', x.txt]"
    for kept in ("https://example.com/v1", "sample_data/seeds.txt", "ratio 1/2", "a // b", "sim-teacher"):
        assert public_path(kept) == kept


def test_a_rerun_reusing_every_stage_writes_the_same_card(exported_run, tmp_path):
    _, run_dir = exported_run("autoif")
    again = compose_and_run("autoif", run_dir=tmp_path / "again", cache_dir=exported_run.cache_dir("autoif"))
    assert all(stage["reused"] for stage in again["stages"].values())
    assert (tmp_path / "again/exports/hf/README.md").read_bytes() == (run_dir / "exports/hf/README.md").read_bytes()


def test_size_categories_follow_the_hubs_bins():
    assert [size_category(n) for n in (0, 999, 1_000, 99_999, 330_000, 10**9)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "n>100M"]
