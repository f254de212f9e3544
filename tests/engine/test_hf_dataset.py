"""Every exporting experiment's exports/hf/ is a `datasets` dataset: load_from_disk round-trips the records of the
plain export files, load_dataset reads the same rows through the card's configs, empty splits survive, and the
bytes depend on the rows only."""

from __future__ import annotations

import json

import datasets
import pytest

from engine.hf_dataset import HFPart, save_hf_dataset, strings
from tests.engine.conftest import EXPORTING


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_autoif_round_trips_its_sft_and_dpo_records(exported_run):
    _, run_dir = exported_run("autoif")
    hf = datasets.load_from_disk(str(run_dir / "exports/hf"))
    assert list(hf) == ["sft", "dpo"]
    messages = jsonl(run_dir / "exports/autoif_messages.jsonl")
    assert [{k: r[k] for k in ("id", "messages", "lineage", "simulated")} for r in hf["sft"]] == messages
    alpaca = json.loads((run_dir / "exports/autoif_alpaca.json").read_text())
    assert [r["messages"][1]["content"] for r in hf["sft"]] == [a["output"] for a in alpaca]
    assert list(hf["dpo"]) == jsonl(run_dir / "exports/autoif_dpo.jsonl") and hf["dpo"].num_rows > 0
    assert hf["sft"].split == "train" and hf["sft"].info.config_name == "sft" and hf["sft"].info.license == "other"


def test_principle_examples_round_trip_one_split_per_version(exported_run):
    _, run_dir = exported_run("principle_examples")
    hf = datasets.load_from_disk(str(run_dir / "exports/hf"))
    files = sorted(p.name for p in (run_dir / "exports").glob("principle_examples_*.jsonl"))
    assert sorted(f"principle_examples_{split}.jsonl" for split in hf) == files and len(files) > 2
    for split, ds in hf.items():
        assert list(ds) == jsonl(run_dir / f"exports/principle_examples_{split}.jsonl")
        assert ds.split == split and ds.info.config_name == "default"


@pytest.mark.parametrize("experiment", EXPORTING)
def test_load_dataset_reads_the_rows_of_load_from_disk_through_the_cards_configs(exported_run, experiment, tmp_path):
    _, run_dir = exported_run(experiment)
    folder = str(run_dir / "exports/hf")
    on_disk = datasets.load_from_disk(folder)
    for ds in on_disk.values():
        via_card = datasets.load_dataset(folder, ds.info.config_name, split=ds.split, cache_dir=str(tmp_path))
        assert via_card.features == ds.features and list(via_card) == list(ds)


class StagingContext:
    """What save_hf_dataset asks of a stage's Context: where its output files go."""

    def __init__(self, root):
        self.root = root

    def output_path(self, relative: str):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


FEATURES = datasets.Features({"id": datasets.Value("string"), "parent_ids": strings()})


def test_an_empty_part_is_kept_with_its_columns(tmp_path):
    save_hf_dataset(StagingContext(tmp_path), {"kept": HFPart([{"id": "a", "parent_ids": ["s"]}], FEATURES),
                                               "none": HFPart([], FEATURES, config="other")}, license="cc0-1.0")
    hf = datasets.load_from_disk(str(tmp_path / "exports/hf"))
    assert hf["none"].num_rows == 0 and hf["none"].features == FEATURES and hf["kept"][0]["parent_ids"] == ["s"]


def test_the_files_depend_on_the_rows_only(tmp_path):
    def write(where, rows):
        save_hf_dataset(StagingContext(where), {"x": HFPart(rows, FEATURES)}, license="cc0-1.0")
        return {p.relative_to(where): p.read_bytes() for p in sorted(where.rglob("*")) if p.is_file()}

    rows = [{"id": str(i), "parent_ids": []} for i in range(5)]
    assert write(tmp_path / "a", rows) == write(tmp_path / "b", rows)
    assert write(tmp_path / "c", rows[:4]) != write(tmp_path / "a", rows)


def test_two_parts_in_one_split_of_one_config_are_refused(tmp_path):
    with pytest.raises(ValueError, match="share a \\(config, split\\)"):
        save_hf_dataset(StagingContext(tmp_path), {"a": HFPart([], FEATURES), "b": HFPart([], FEATURES)},
                        license="cc0-1.0")
