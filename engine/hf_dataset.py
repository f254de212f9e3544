"""A stage's exports as a Hugging Face `datasets` dataset in `exports/hf/`: `datasets.load_from_disk` loads it as a
DatasetDict, and `datasets.load_dataset` (or the Hub, once `python -m engine.publish` pushed it) reads the same
files through the card's `configs` (engine.dataset_card, written at the end of the run).

    save_hf_dataset(ctx, {"sft": HFPart(rows, features, config="sft"),
                          "dpo": HFPart(rows, features, config="dpo")}, license="cc0-1.0")
    -> exports/hf/dataset_dict.json, exports/hf/sft/{data-00000-of-00001.arrow, dataset_info.json, state.json}, ...

Each part is one entry of the DatasetDict, stored in its own folder, and on the Hub one split (`split`, "train"
unless given) of one config (`config`, "default" unless given): AutoIF's SFT and DPO records are two configs (their
columns differ), principle_examples' library versions are the splits of one. The bytes depend on the rows only
(the dataset fingerprint is a hash of them), so a rerun that recomputes a stage writes the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.graph import sha256

if TYPE_CHECKING:
    import datasets

    from engine.context import Context

HF_DIR = "exports/hf"


@dataclass(frozen=True)
class HFPart:
    rows: list[dict]
    features: datasets.Features
    config: str = "default"
    split: str = "train"
    description: str = ""  # what a row is and what its lineage fields point to (shown in the card)


def save_hf_dataset(ctx: Context, parts: dict[str, HFPart], *, license: str) -> None:  # noqa: A002 - the Hub's word
    """Write `parts` (folder name -> part) as one DatasetDict under the run's exports/hf/."""
    import datasets
    import pyarrow as pa

    seen = [(p.config, p.split) for p in parts.values()]
    if len(set(seen)) != len(seen):
        raise ValueError(f"two parts of the dataset share a (config, split): {seen}")
    folder = ctx.output_path(f"{HF_DIR}/dataset_dict.json").parent
    splits = {}
    for name, part in parts.items():
        table = pa.Table.from_pylist(part.rows, schema=part.features.arrow_schema)
        info = datasets.DatasetInfo(description=part.description, features=part.features, license=license,
                                    config_name=part.config)
        fingerprint = sha256(json.dumps(part.rows, sort_keys=True, default=str))[:16]
        splits[name] = datasets.Dataset(table, info=info, split=part.split, fingerprint=fingerprint)
    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the stage's own progress is the engine's to show
    try:
        # one shard each, also when empty: an empty split written as no shard cannot be loaded again
        datasets.DatasetDict(splits).save_to_disk(str(folder), num_shards=dict.fromkeys(splits, 1))
    finally:
        if was_enabled:
            datasets.enable_progress_bars()


def messages_feature() -> Any:
    """A chat conversation as TRL and the Hub's chat templates read it: [{role, content}]."""
    import datasets

    return datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})


def strings() -> Any:
    import datasets

    return datasets.List(datasets.Value("string"))
