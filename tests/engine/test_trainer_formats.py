"""The exports load unchanged in the trainers people feed them to: TRL's SFTTrainer and DPOTrainer take AutoIF's
exports/hf configs as they are (its own loader: each trainer prepares the dataset and trains a step of a tiny
model), and every file named in exports/dataset_info.json reads as LLaMA-Factory's data/README.md documents
(LLaMA-Factory itself needs CUDA wheels and gradio to import, so its documented schema is checked instead)."""

from __future__ import annotations

import json
import math
import os

import datasets
import pytest

from tests.engine.conftest import EXPORTING

trl = pytest.importorskip("trl")  # the dev extra installs it


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from engine.testing.tiny_models import build_tiny_causal_lm

    path = build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def one_step(trainer) -> float:
    return trainer.train().training_loss


def test_sft_trainer_takes_the_sft_config_as_a_conversational_dataset(exported_run, tiny_model, tmp_path):
    from trl.data_utils import is_conversational

    _, run_dir = exported_run("autoif")
    sft = datasets.load_from_disk(str(run_dir / "exports/hf"))["sft"]
    assert is_conversational(sft[0])
    model, tokenizer = tiny_model
    args = trl.SFTConfig(output_dir=str(tmp_path), max_length=64, max_steps=1, per_device_train_batch_size=2,
                         report_to="none", use_cpu=True, save_strategy="no")
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=sft, processing_class=tokenizer)
    assert {"input_ids", "labels"} <= set(trainer.train_dataset.column_names)
    assert trainer.train_dataset.num_rows == sft.num_rows
    assert math.isfinite(one_step(trainer))


def test_dpo_trainer_takes_the_dpo_config_as_a_preference_dataset(exported_run, tiny_model, tmp_path):
    from trl.data_utils import is_conversational

    _, run_dir = exported_run("autoif")
    dpo = datasets.load_from_disk(str(run_dir / "exports/hf"))["dpo"]
    assert dpo.num_rows > 0 and not is_conversational(dpo[0])
    model, tokenizer = tiny_model
    args = trl.DPOConfig(output_dir=str(tmp_path), max_length=64, max_steps=1, per_device_train_batch_size=2,
                         report_to="none", use_cpu=True, save_strategy="no")
    trainer = trl.DPOTrainer(model=model, args=args, train_dataset=dpo, processing_class=tokenizer)
    assert {"prompt_ids", "chosen_ids", "rejected_ids"} <= set(trainer.train_dataset.column_names)
    assert math.isfinite(one_step(trainer))


# LLaMA-Factory's data/README.md: an entry names a file beside dataset_info.json, its `formatting` (alpaca, the
# default, or sharegpt), `ranking` for preference data, and `columns` (and for sharegpt `tags`) mapping its fields
ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "history": None, "system": None}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}


def read_as_llama_factory(folder, entry: dict) -> list[tuple[str, str | tuple[str, str]]]:
    """The (prompt, response or (chosen, rejected)) pairs LLaMA-Factory reads from an entry's file, by its rules."""
    path = folder / entry["file_name"]
    records = json.loads(path.read_text()) if path.suffix == ".json" else [
        json.loads(line) for line in path.read_text().splitlines()]
    assert set(entry) <= {"file_name", "formatting", "ranking", "columns", "tags"}
    columns = entry.get("columns", {})
    out = []
    if entry.get("formatting", "alpaca") == "alpaca":
        assert set(columns) <= set(ALPACA_COLUMNS) | {"chosen", "rejected"}
        col = {**ALPACA_COLUMNS, **columns}
        for r in records:
            prompt = "\n".join(r[col[k]] for k in ("prompt", "query") if col[k] in r and r[col[k]])
            if entry.get("ranking"):
                assert isinstance(r[col["chosen"]], str) and isinstance(r[col["rejected"]], str)
                out.append((prompt, (r[col["chosen"]], r[col["rejected"]])))
            else:
                assert isinstance(r[col["response"]], str)
                out.append((prompt, r[col["response"]]))
        return out
    assert entry["formatting"] == "sharegpt" and not entry.get("ranking")
    tags = {**SHAREGPT_TAGS, **entry.get("tags", {})}
    for r in records:
        turns = r[columns.get("messages", "conversations")]
        roles = [t[tags["role_tag"]] for t in turns]
        assert len(turns) % 2 == 0 and roles == [tags["user_tag"], tags["assistant_tag"]] * (len(turns) // 2)
        out.append((turns[-2][tags["content_tag"]], turns[-1][tags["content_tag"]]))
    return out


@pytest.mark.parametrize("experiment", EXPORTING)
def test_every_file_in_dataset_info_reads_as_llama_factory_documents(exported_run, experiment):
    _, run_dir = exported_run(experiment)
    folder = run_dir / "exports"
    entries = json.loads((folder / "dataset_info.json").read_text())
    named = {e["file_name"] for e in entries.values()}
    assert named == {p.name for p in folder.iterdir() if p.suffix in (".json", ".jsonl")} - {"dataset_info.json"}
    for entry in entries.values():
        pairs = read_as_llama_factory(folder, entry)
        assert pairs and all(prompt and answer for prompt, answer in pairs)


def test_llama_factory_reads_autoif_sft_and_dpo_as_the_hf_dataset_holds_them(exported_run):
    _, run_dir = exported_run("autoif")
    entries = json.loads((run_dir / "exports/dataset_info.json").read_text())
    hf = datasets.load_from_disk(str(run_dir / "exports/hf"))
    sft = [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in hf["sft"]]
    assert read_as_llama_factory(run_dir / "exports", entries["autoif_sft"]) == sft
    assert read_as_llama_factory(run_dir / "exports", entries["autoif_alpaca"]) == sft
    dpo = [(r["prompt"], (r["chosen"], r["rejected"])) for r in hf["dpo"]]
    assert read_as_llama_factory(run_dir / "exports", entries["autoif_dpo"]) == dpo
