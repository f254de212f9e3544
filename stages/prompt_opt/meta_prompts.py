"""One row per (iteration, proposal): the meta prompt asking the generator for a new instruction, built from the
scored pool so far.

Selection (`strategy`) picks `k` of the pool's (prompt, train item) results: `random` draws them at random,
a fresh draw per proposal; `best_worst` takes the k/2 lowest and k/2 highest cross-entropy results.
`meta: original` shows each as prompt, question, correct answer, model answer and cross-entropy;
`meta: opro` lists the pool's best prompts sorted by score (worst first, as OPRO does) with the selected
results' items as task exemplars.
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.prompt_template import PromptTemplate, TemplatePath, read_template
from helpers.prompt_opt.evaluation import rank_key


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: Literal["original", "opro"]
    strategy: Literal["random", "best_worst"]
    k: int = Field(ge=2, le=50)
    proposals: int = Field(ge=1, le=64)
    meta_template: TemplatePath(optional=("examples", "scored_prompts", "exemplars"))  # original | opro's
    # meta original: one shown result
    example_template: TemplatePath(optional=("prompt", "question", "answer", "model_answer", "cross_entropy"))
    opro_prompt_template: TemplatePath(optional=("prompt", "score"))  # meta opro: one scored prompt
    opro_exemplar_template: TemplatePath(optional=("question", "answer", "A", "B", "C", "D"))  # one task exemplar
    opro_max_prompts: int = Field(ge=1, le=100)


def select_results(pool: list[dict], strategy: str, k: int, rng) -> list[tuple[dict, dict]]:
    """(prompt row, result) pairs to show: k at random, or the k/2 best and k/2 worst by cross-entropy (results
    without one, when the evaluator gave no logprobs, rank by correctness: right ones first)."""
    results = [(p, r) for p in pool for r in p["train_results"]]
    if strategy == "random":
        return rng.sample(results, min(k, len(results)))
    ranked = sorted(results, key=lambda pr: (pr[1]["cross_entropy"] is None, pr[1]["cross_entropy"] or 0.0,
                                             pr[1]["letter"] != pr[1]["answer"], pr[0]["id"], pr[1]["item_id"]))
    low = ranked[: k // 2]
    high = ranked[len(low):][-(k - len(low)):]
    return low + high


def _render_original(shown: list[tuple[dict, dict]], items: dict[str, dict], t: dict[str, PromptTemplate]) -> str:
    examples = "\n\n".join(
        t["example"].render(prompt=json.dumps(p["prompt"], ensure_ascii=False),
                            question=items[r["item_id"]]["question"], answer=r["answer"],
                            model_answer=r["letter"] or "(no letter)",
                            cross_entropy="unavailable" if r["cross_entropy"] is None else f"{r['cross_entropy']:.3f}")
        for p, r in shown)
    return t["meta"].render(examples=examples)


def _render_opro(pool: list[dict], shown: list[tuple[dict, dict]], items: dict[str, dict], t: dict[str, PromptTemplate],
                 max_prompts: int) -> str:
    best = sorted(pool, key=rank_key)[:max_prompts]
    scored = "\n\n".join(t["prompt"].render(prompt=p["prompt"], score=round(100 * p["train_accuracy"]))
                         for p in reversed(best))
    item_ids = list(dict.fromkeys(r["item_id"] for _, r in shown))
    exemplars = "\n\n".join(t["exemplar"].render(question=items[i]["question"], answer=items[i]["answer"],
                                                 **items[i]["options"]) for i in item_ids)
    return t["meta"].render(scored_prompts=scored, exemplars=exemplars)


class MetaPrompt(TypedDict):
    proposal_index: int
    strategy: str
    meta: str
    meta_prompt: str  # the text sent to the generator
    shown_prompt_ids: list[str]
    parent_ids: list[str]  # the prompts it shows


def meta_prompts(pool_prev: list[dict], items_train: list[dict], params: Params, ctx: Context) -> list[MetaPrompt]:
    root = ctx.project_root
    # stripped: the file's final newline is not part of the text it is joined into
    templates = {name: PromptTemplate(path, read_template(path, root).text.strip()) for name, path in (
        ("meta", params.meta_template), ("example", params.example_template),
        ("prompt", params.opro_prompt_template), ("exemplar", params.opro_exemplar_template))}
    items = {it["id"]: it for it in items_train}
    rows: list[MetaPrompt] = []
    for j in range(params.proposals):
        shown = select_results(pool_prev, params.strategy, params.k, ctx.rng)
        if params.meta == "original":
            text = _render_original(shown, items, templates)
            shown_ids = list(dict.fromkeys(p["id"] for p, _ in shown))
        else:
            text = _render_opro(pool_prev, shown, items, templates, params.opro_max_prompts)
            shown_ids = [p["id"] for p in sorted(pool_prev, key=rank_key)[:params.opro_max_prompts]]
        rows.append({"proposal_index": j, "strategy": params.strategy,
                     "meta": params.meta, "meta_prompt": text, "shown_prompt_ids": shown_ids,
                     "parent_ids": shown_ids})
    return rows
