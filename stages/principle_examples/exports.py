"""One row per exported file: every version as JSONL in the original tool's field names (human_prompt,
assistant_answer, critique, rewrite; plus id, lineage and the simulated flag), and the best version by test
pass rate once more as `..._best.jsonl`."""

from __future__ import annotations

import json
from typing import TypedDict

from engine.context import Context

FIELDS = ("human_prompt", "assistant_answer", "critique", "rewrite")


def _write(path, examples: list[dict]) -> None:
    ordered = sorted(examples, key=lambda e: (e["added_in_version"], e["example_id"]))
    lines = [{**{k: e[k] for k in FIELDS}, "id": e["example_id"], "parent_ids": e["parent_ids"],
              "simulated": e["simulated"]} for e in ordered]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


class ExportedFile(TypedDict):
    version: int
    file: str  # under the run directory
    examples: int
    is_best: bool
    parent_ids: list[str]


def exports(library_versions: list[dict], versions_ranked: list[dict], ctx: Context) -> list[ExportedFile]:
    out = []
    for v in sorted(versions_ranked, key=lambda v: v["version"]):
        examples = [e for e in library_versions if e["version"] == v["version"]]
        names = [f"principle_examples_v{v['version']}.jsonl"] + (["principle_examples_best.jsonl"] if v["is_best"]
                                                                 else [])
        for name in names:
            _write(ctx.output_path(f"exports/{name}"), examples)
            out.append({"version": v["version"], "file": f"exports/{name}", "examples": len(examples),
                        "is_best": v["is_best"], "parent_ids": [v["id"]]})
    return out
