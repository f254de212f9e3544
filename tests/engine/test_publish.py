"""python -m engine.publish: the exact files a push sends (the card, with the repo's name in its loading example,
then every file of exports/hf/), and clear refusals when there is no token, the Hub is offline, the directory holds
no dataset or the repo name is not ORG/NAME. Offline: every test stops before the network."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.config import PROJECT_ROOT
from engine.publish import PublishError, upload_plan

AUTOIF_FILES = ["README.md", "dataset_dict.json",
                "dpo/data-00000-of-00001.arrow", "dpo/dataset_info.json", "dpo/state.json",
                "sft/data-00000-of-00001.arrow", "sft/dataset_info.json", "sft/state.json"]


def publish(run_dir, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | {"PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "engine.publish", str(run_dir), *args], env=environ | env,
                          capture_output=True, text=True, timeout=120)


def listed(stderr: str) -> list[str]:
    return [line.split()[0] for line in stderr.splitlines() if line.startswith("  ")]


def test_the_plan_is_the_card_then_every_file_of_the_dataset(exported_run):
    _, run_dir = exported_run("autoif")
    plan = upload_plan(run_dir, "my-org/autoif-sim")
    assert [u.path_in_repo for u in plan] == AUTOIF_FILES
    card = plan[0].content.decode()
    assert 'load_dataset("my-org/autoif-sim", "sft", split="train")' in card and "ORG/NAME" not in card
    assert plan[2].content == (run_dir / "exports/hf/dpo/data-00000-of-00001.arrow").read_bytes()


def test_without_a_token_nothing_is_sent_and_the_command_says_so(exported_run, tmp_path):
    _, run_dir = exported_run("autoif")
    done = publish(run_dir, "--repo", "my-org/autoif-sim", HF_HOME=str(tmp_path / "no_login"))
    assert done.returncode == 1
    assert "would upload 8 files" in done.stderr and listed(done.stderr) == AUTOIF_FILES
    assert "error: no Hugging Face token: set HF_TOKEN" in done.stderr and "nothing was uploaded" in done.stderr


def test_with_a_token_and_the_hub_offline_it_stops_before_the_network(exported_run, tmp_path):
    _, run_dir = exported_run("autoif")
    done = publish(run_dir, "--repo", "my-org/autoif-sim", HF_HOME=str(tmp_path), HF_TOKEN="hf_test",
                   HF_HUB_OFFLINE="1")
    assert done.returncode == 1 and "uploading 8 files" in done.stderr and listed(done.stderr) == AUTOIF_FILES
    assert "error: HF_HUB_OFFLINE is set: nothing was uploaded" in done.stderr


def test_a_dry_run_lists_the_files_of_each_split(exported_run):
    _, run_dir = exported_run("principle_examples")
    done = publish(run_dir, "--repo", "my-org/principles", "--dry-run")
    splits = sorted(p.name for p in (run_dir / "exports/hf").iterdir() if p.is_dir())
    assert done.returncode == 0 and listed(done.stderr) == ["README.md"] + sorted(["dataset_dict.json"] + [
        f"{s}/{f}" for s in splits for f in ("data-00000-of-00001.arrow", "dataset_info.json", "state.json")])
    assert "best" in splits and "v0" in splits


def test_a_directory_without_a_dataset_and_a_bad_repo_name_are_refused(exported_run, tmp_path):
    _, run_dir = exported_run("autoif")
    with pytest.raises(PublishError, match="has no Hugging Face dataset \\(exports/hf/ is missing\\)"):
        upload_plan(tmp_path, "my-org/x")
    with pytest.raises(PublishError, match="--repo takes the Hub's ORG/NAME"):
        upload_plan(run_dir, "autoif")
    done = publish(tmp_path, "--repo", "my-org/x")
    assert done.returncode == 1 and done.stderr.startswith("error: ")
