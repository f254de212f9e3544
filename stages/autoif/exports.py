"""One row per exported record (AutoIF step 9): each final response as an SFT example (Alpaca JSON, chat messages
JSONL, Parquet) and each (chosen, rejected) pair for DPO, written to the run's exports/. Every record carries its id,
its lineage (response, query, constraint and the constraint's seed or augmented line, plus the verifiers that
passed it) and whether the simulated teacher wrote it.

DPO pairs: chosen = a final response with pass rate >= dpo_chosen_pass_rate (it met the score threshold to be
final); rejected = a response to the same prompt that no verifier passed."""

from __future__ import annotations

import json
from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dpo_chosen_pass_rate: float = Field(ge=0, le=1)


def lineage(r: dict, constraint_parents: dict[str, list[str]]) -> dict:
    return {"response_id": r["response_id"], "query_row_id": r["query_row_id"], "query_id": r["query_id"],
            "constraint_id": r["constraint_id"],
            "constraint_parent_ids": constraint_parents.get(r["constraint_id"], []),
            "verifier_ids": list(r["verifier_ids"])}


def _write_jsonl(path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records))


def exports(responses_scored: list[dict], response_checks: list[dict], constraints: list[dict], params: Params,
            ctx: Context) -> list[dict]:
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
    return ([{"kind": "sft", "record_id": s["id"], "lineage": json.dumps(s["lineage"]), "simulated": s["simulated"],
              "parent_ids": [s["id"]]} for s in sft]
            + [{"kind": "dpo", "record_id": d["id"], "lineage": json.dumps(d["lineage"]), "simulated": d["simulated"],
                "parent_ids": [d["id"].split("|")[0]]} for d in dpo])
