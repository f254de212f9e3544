"""One row per exported record (AutoIF step 9): each final response as an SFT example (Alpaca JSON, chat messages
JSONL, Parquet) and each (chosen, rejected) pair for DPO, written to the run's exports/. Every record carries its id,
its lineage (response, query, constraint and the constraint's seed or augmented line, plus the verifiers that
passed it) and whether the simulated teacher wrote it. The same records as a Hugging Face dataset in exports/hf/
(configs `sft`: TRL's conversational `messages`, and `dpo`: TRL's `prompt`/`chosen`/`rejected`), and a LLaMA-Factory
`dataset_info.json` beside the files naming each one's format.

DPO pairs: chosen = a final response with pass rate >= dpo_chosen_pass_rate (it met the score threshold to be
final); rejected = a response to the same prompt that no verifier passed."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Literal, TypedDict

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.hf_dataset import HFPart, messages_feature, save_hf_dataset, strings


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dpo_chosen_pass_rate: float = Field(ge=0, le=1)
    license: str = Field(min_length=1)  # the Hub's licence id of the exported data (the dataset card's header)


def lineage(r: dict, constraint_parents: dict[str, list[str]]) -> dict:
    return {"response_id": r["response_id"], "query_row_id": r["query_row_id"], "query_id": r["query_id"],
            "constraint_id": r["constraint_id"],
            "constraint_parent_ids": constraint_parents.get(r["constraint_id"], []),
            "verifier_ids": list(r["verifier_ids"])}


LINEAGE_FIELDS = ("response_id", "query_row_id", "query_id", "constraint_id")
LINEAGE_LISTS = ("constraint_parent_ids", "verifier_ids")
LINEAGE = ("`lineage`: the ids of the rows this record came from in the run's tables (`python -m engine.view RUN_DIR`"
           "): `response_id` (responses), `query_row_id` (queries), `query_id` (user_queries), `constraint_id` "
           "(constraints), `constraint_parent_ids` (the seed or augmented line of the constraint), `verifier_ids` (the "
           "verifier functions that passed the response)")
# LLaMA-Factory's dataset_info.json (its data/README.md): the chat file in its sharegpt format with OpenAI role
# names, the DPO file in its alpaca format as a preference (ranking) dataset
LLAMA_FACTORY = {
    "autoif_sft": {"file_name": "autoif_messages.jsonl", "formatting": "sharegpt", "columns": {"messages": "messages"},
                   "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                            "assistant_tag": "assistant"}},
    "autoif_alpaca": {"file_name": "autoif_alpaca.json", "formatting": "alpaca",
                      "columns": {"prompt": "instruction", "query": "input", "response": "output"}},
    "autoif_dpo": {"file_name": "autoif_dpo.jsonl", "formatting": "alpaca", "ranking": True,
                   "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}},
}


def _hf_parts(sft: list[dict], dpo: list[dict], responses_scored: list[dict]) -> dict[str, HFPart]:
    import datasets

    text, flag, number = datasets.Value("string"), datasets.Value("bool"), datasets.Value("float64")
    lineage = {**dict.fromkeys(LINEAGE_FIELDS, text), **dict.fromkeys(LINEAGE_LISTS, strings())}
    sft_rows = [{"id": s["id"], "messages": [{"role": "user", "content": s["instruction"]},
                                             {"role": "assistant", "content": s["output"]}],
                 "score": float(r["score"]), "pass_rate": float(r["pass_rate"]), "lineage": s["lineage"],
                 "simulated": s["simulated"]} for s, r in zip(sft, responses_scored, strict=True)]
    sft_features = datasets.Features({"id": text, "messages": messages_feature(), "score": number,
                                      "pass_rate": number, "lineage": lineage, "simulated": flag})
    dpo_features = datasets.Features({"id": text, "prompt": text, "chosen": text, "rejected": text,
                                      "lineage": {**lineage, "rejected_response_id": text}, "simulated": flag})
    return {
        "sft": HFPart(sft_rows, sft_features, config="sft", description=(
            "One row per final response: the constrained query and the response that passed its verifiers and "
            f"the judge (`score`, `pass_rate`: the share of verifiers it passed). {LINEAGE}.")),
        "dpo": HFPart(dpo, dpo_features, config="dpo", description=(
            "One row per (chosen, rejected) pair for one prompt: chosen a final response, rejected a response no "
            f"verifier passed. {LINEAGE}; `rejected_response_id` (responses).")),
    }


def _write_jsonl(path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records))


class ExportRecord(TypedDict):
    kind: Literal["sft", "dpo"]
    record_id: str  # the record's id in its export file
    lineage: str  # JSON: the ids of the rows the record came from
    simulated: bool
    parent_ids: list[str]  # the scored response (a dpo pair's chosen one)


def exports(responses_scored: list[dict], response_checks: list[dict], constraints: list[dict], params: Params,
            ctx: Context) -> list[ExportRecord]:
    constraint_parents = {c["id"]: list(c["parent_ids"]) for c in constraints}
    sft = [{"id": r["id"], "instruction": r["prompt"], "input": "", "output": r["response"],
            "lineage": lineage(r, constraint_parents), "simulated": bool(r["simulated"])} for r in responses_scored]
    failing = defaultdict(list)  # query row -> responses no verifier passed
    for c in response_checks:
        if c["pass_rate"] == 0:
            failing[c["query_row_id"]].append(c)
    dpo = []
    for r in responses_scored:
        if r["pass_rate"] < params.dpo_chosen_pass_rate:
            continue
        for bad in failing[r["query_row_id"]]:
            dpo.append({"id": f"{r['id']}|{bad['response_id']}", "prompt": r["prompt"], "chosen": r["response"],
                        "rejected": bad["response"], "lineage": {**lineage(r, constraint_parents),
                                                                 "rejected_response_id": bad["response_id"]},
                        "simulated": bool(r["simulated"] or bad["simulated"])})
    ctx.output_path("exports/autoif_alpaca.json").write_text(json.dumps(sft, ensure_ascii=False, indent=1))
    _write_jsonl(ctx.output_path("exports/autoif_messages.jsonl"), [
        {"id": s["id"], "messages": [{"role": "user", "content": s["instruction"]},
                                     {"role": "assistant", "content": s["output"]}],
         "lineage": s["lineage"], "simulated": s["simulated"]} for s in sft])
    _write_jsonl(ctx.output_path("exports/autoif_dpo.jsonl"), dpo)
    table = pa.Table.from_pylist([{**s, "lineage": json.dumps(s["lineage"]), "score": r["score"],
                                   "pass_rate": r["pass_rate"]} for s, r in zip(sft, responses_scored, strict=True)],
                                 schema=None) if sft else pa.table({"id": pa.array([], pa.string())})
    pq.write_table(table, ctx.output_path("exports/autoif_sft.parquet"))
    ctx.output_path("exports/dataset_info.json").write_text(json.dumps(LLAMA_FACTORY, indent=1))
    save_hf_dataset(ctx, _hf_parts(sft, dpo, responses_scored), license=params.license)
    return ([{"kind": "sft", "record_id": s["id"], "lineage": json.dumps(s["lineage"]), "simulated": s["simulated"],
              "parent_ids": [s["id"]]} for s in sft]
            + [{"kind": "dpo", "record_id": d["id"], "lineage": json.dumps(d["lineage"]), "simulated": d["simulated"],
                "parent_ids": [d["id"].split("|")[0]]} for d in dpo])
