"""One row per exported file: every version as JSONL in the original tool's field names (human_prompt,
assistant_answer, critique, rewrite; plus id, lineage and the simulated flag), and the version chosen by validation
pass rate once more as `..._best.jsonl`. The same as a Hugging Face dataset in exports/hf/ (one split a version,
`v<k>`, and `best`) and a LLaMA-Factory `dataset_info.json` entry per file (alpaca format: the human prompt, and
the rewrite that follows the principle as the response)."""

from __future__ import annotations

import json
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.hf_dataset import HFPart, save_hf_dataset, strings

FIELDS = ("human_prompt", "assistant_answer", "critique", "rewrite")
DESCRIPTION = ("One row per example of a library version (critique-and-rewrite few-shot examples teaching the "
               "principle): `human_prompt`, the `assistant_answer` that departs from it, the `critique`, and the "
               "`rewrite` that follows it. `parent_ids`: the rows this example came from in the run's tables "
               "(`python -m engine.view RUN_DIR`), back to its failed validation item or seed example.")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    license: str = Field(min_length=1)  # the Hub's licence id of the exported data (the dataset card's header)


def _lines(examples: list[dict]) -> list[dict]:
    ordered = sorted(examples, key=lambda e: (e["added_in_version"], e["example_id"]))
    return [{**{k: e[k] for k in FIELDS}, "id": e["example_id"], "parent_ids": list(e["parent_ids"]),
             "simulated": bool(e["simulated"])} for e in ordered]


def _write(path, examples: list[dict]) -> None:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in _lines(examples)))


class ExportedFile(TypedDict):
    version: int
    file: str  # under the run directory
    examples: int
    is_best: bool
    parent_ids: list[str]


def exports(library_versions: list[dict], versions_ranked: list[dict], params: Params,
            ctx: Context) -> list[ExportedFile]:
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({**dict.fromkeys(FIELDS, text), "id": text, "parent_ids": strings(),
                                  "simulated": datasets.Value("bool")})
    out, parts, llama_factory = [], {}, {}
    for v in sorted(versions_ranked, key=lambda v: v["version"]):
        examples = [e for e in library_versions if e["version"] == v["version"]]
        names = [f"principle_examples_v{v['version']}.jsonl"] + (["principle_examples_best.jsonl"] if v["is_best"]
                                                                 else [])
        for name in names:
            _write(ctx.output_path(f"exports/{name}"), examples)
            out.append({"version": v["version"], "file": f"exports/{name}", "examples": len(examples),
                        "is_best": v["is_best"], "parent_ids": [v["id"]]})
            split = "best" if name.endswith("_best.jsonl") else f"v{v['version']}"
            parts[split] = HFPart(_lines(examples), features, split=split, description=DESCRIPTION)
            llama_factory[name.removesuffix(".jsonl")] = {
                "file_name": name, "formatting": "alpaca",
                "columns": {"prompt": "human_prompt", "response": "rewrite"}}
    ctx.output_path("exports/dataset_info.json").write_text(json.dumps(llama_factory, indent=1))
    save_hf_dataset(ctx, parts, license=params.license)
    return out
