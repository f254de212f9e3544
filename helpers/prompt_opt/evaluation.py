"""Scoring an instruction on multiple-choice items: the evaluator's requests, the answer letter, strict format
compliance, the cross-entropy of the correct letter, and per-prompt aggregates. Shared by the answers_* and
*_scored stages, which are thin wrappers naming their tables.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.llm import Request, Response, TokenLogprob
from engine.llm.parse import answer_text
from engine.prompt_template import PromptTemplate, TemplatePath, read_template
from engine.rows import Rejected

LETTERS = "ABCD"
LOG_FLOOR = math.log(1e-4)
CE_MAX = -LOG_FLOOR  # the cross-entropy of an item answered without a usable letter


class EvaluatorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # the template rendering one item (passage, question, options A-D)
    question_template: TemplatePath(required=("question", "A", "B", "C", "D"), optional=("context",))
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=1, le=512)
    logprobs: bool  # false: the backend gives none, estimate the cross-entropy from sampled answers
    top_logprobs: int = Field(ge=4, le=20)
    fallback_samples: int = Field(ge=1, le=64)
    fallback_temperature: float = Field(gt=0, le=2)


# a reply commits to a letter by naming it as its answer, or by being only that letter
_COMMITS = [
    re.compile(r"^\W*([A-D])\W*$"),  # "B", "B.", "(B)", "**B**"
    re.compile(r"\b(?i:answer|choice)\b(?i: is)?\W{0,3}(?i:option\s+|letter\s+)?\(?([A-D])\b(?![-'])"),
    re.compile(r"\b(?i:option)\s+\(?([A-D])\b(?![-'])"),  # "I choose option C"
    re.compile(r"\bI (?i:choose|pick|select|would choose|would pick)\W{0,3}\(?([A-D])\b(?![-'])"),
]
# an option label in a reply: "B)" or "(B)"; one label alone is an answer ("B) the option's text", "... is C) the
# text"), several are a reply listing the options
_LABEL = re.compile(r"(?<![A-Za-z0-9])\(?([A-D])\)")


def extract_letter(reply: str) -> str | None:
    """The answer letter a reply commits to, or None. It commits by being the letter, naming it as its answer
    ("The answer is (B)", "option C"; more than one letter named so is no answer) or giving one option label
    ("B) text"); a reply listing options ("A) ... B) ...") commits to none, and a capital A starting a sentence
    ("A badger...") is not an answer. `<think>` blocks, preambles and bold are looked through."""
    text = answer_text(reply)
    named = {m[1] for pattern in _COMMITS for m in pattern.finditer(text)}
    if named:
        return named.pop() if len(named) == 1 else None
    labels = {m[1] for m in _LABEL.finditer(text)}
    return labels.pop() if len(labels) == 1 else None


def letter_position(logprobs: list[TokenLogprob], letter: str) -> int | None:
    """The index of the token where the reply commits to `letter`, among the tokens that are the letter
    (punctuation aside: "(B", " B."): the first after which (with one more token, for "B" then ")") the reply so
    far already reads as that answer, else the first. None when no token is the letter on its own (a tokenizer
    merging it with its neighbours, or a reply cut before it)."""
    tokens = [t.token for t in logprobs]
    found = [i for i, token in enumerate(tokens) if token.strip(" ()*.,:\n") == letter]
    for joiner in ("", " "):  # token texts carry their spaces, or (some servers, the sim) do not
        for i in found:
            if extract_letter(joiner.join(tokens[: i + 2])) == letter:
                return i
    return found[0] if found else None


def is_strict_letter(reply: str) -> bool:
    """Strict format compliance: the reply is exactly one letter A-D (surrounding whitespace allowed)."""
    return reply.strip() in tuple(LETTERS)


def _floored(p: float) -> float:
    return -max(math.log(p), LOG_FLOOR) if p > 0 else CE_MAX


def letter_cross_entropy(top: dict[str, float], correct: str) -> float:
    """-log p(correct letter) from the top logprobs at the answer letter's token: each letter's mass is that of
    its token with and without a leading space ("B", " B"); masses are renormalised over the four letters; log p
    is floored at log(1e-4), so an absent correct letter costs 9.21 nats, not infinity."""
    mass = {x: sum(math.exp(top[t]) for t in (x, " " + x) if t in top) for x in LETTERS}
    total = sum(mass.values())
    return _floored(mass[correct] / total) if total > 0 else CE_MAX


def sampled_cross_entropy(letters: list[str | None], correct: str) -> float:
    """The fallback when a backend gives no logprobs: p(correct) is the share of sampled answers naming it."""
    return _floored(sum(1 for x in letters if x == correct) / len(letters))


def _messages(prompt: str, item: dict, template: PromptTemplate) -> list[dict[str, str]]:
    user = template.render(context=item["context"], question=item["question"], **item["options"])
    return [{"role": "system", "content": prompt}, {"role": "user", "content": user}]


def answer_rows(prompts: list[dict], items: list[dict], params: EvaluatorParams, ctx: Context,
                desc: str) -> list[dict | Rejected]:
    """One row per (prompt, item): the evaluator's reply, its letter, correctness, strict compliance and the
    cross-entropy of the correct letter. A failed call or a reply without a letter is a Rejected row."""
    template = read_template(params.question_template, ctx.project_root)
    pairs = [(p, it) for p in prompts for it in items]
    llm = ctx.llm("evaluator")
    # the letter comes first and max_tokens is small on purpose: a reply cut after it is an answer, read as a prefix
    asked = [Request(_messages(p["prompt"], it, template), task="prompt_opt.evaluate",
                     temperature=params.temperature, max_tokens=params.max_tokens, logprobs=params.logprobs,
                     top_logprobs=params.top_logprobs if params.logprobs else None, truncation="prefix")
             for p, it in pairs]
    replies = llm.complete(asked, desc=desc)
    # logprobs: false: sample answers instead. A backend that ignores the logprobs asked for (transformers serve)
    # gives no cross-entropy: it is reported unavailable, never estimated behind the user's back
    lacking = [i for i, r in enumerate(replies) if r.ok and not params.logprobs]
    samples: dict[int, list[Response]] = {i: [] for i in lacking}
    extra = [(i, j) for i in lacking for j in range(1, params.fallback_samples + 1)]
    sampled = llm.complete([Request(asked[i].messages, task="prompt_opt.evaluate", sample_index=j,
                                    temperature=params.fallback_temperature, max_tokens=params.max_tokens,
                                    truncation="prefix")
                            for i, j in extra], desc=f"{desc} (sampled)") if extra else []
    for (i, _), response in zip(extra, sampled, strict=True):
        samples[i].append(response)
    rows: list[dict | Rejected] = []
    for i, ((prompt, item), reply) in enumerate(zip(pairs, replies, strict=True)):
        row = {"prompt_id": prompt["id"], "item_id": item["id"], "answer": item["answer"], "reply": reply.text,
               "letter": None, "correct": False, "strict": False, "cross_entropy": None, "ce_source": None,
               "llm_key": reply.key, "simulated": reply.simulated, "parent_ids": [prompt["id"], item["id"]]}
        if not reply.ok:
            rows.append(Rejected(row, reply.reason, reply.error or ""))
            continue
        letter = extract_letter(reply.text)
        ce: float | None = None
        if i in samples:
            ce = sampled_cross_entropy([extract_letter(s.text) if s.ok else None for s in samples[i]], item["answer"])
            source = "sampled"
        elif not reply.logprobs:
            source = "no_logprobs"
        elif letter is not None and (at := letter_position(reply.logprobs, letter)) is not None:
            ce, source = letter_cross_entropy(reply.logprobs[at].top, item["answer"]), "top_logprobs"
        else:
            source = "letter_not_in_logprobs"
        row |= {"letter": letter, "correct": letter == item["answer"], "strict": is_strict_letter(reply.text),
                "cross_entropy": None if ce is None else round(ce, 6), "ce_source": source}
        rows.append(row if letter else Rejected(row, "not_a_letter", reply.text[:500]))
    return rows


def prompt_scores(prompts: list[dict], answers: list[dict], items: list[dict], prefix: str) -> list[dict]:
    """Each prompt row again, with its scores over `items` (`prefix` names the split: train_*, heldout_*) and
    one result per item (`<prefix>_results`: letter, cross-entropy). An item with no kept answer (no letter,
    failed call) counts as wrong and not compliant, with letter null, at the cross-entropy cap when the evaluator
    gives cross-entropies at all (else it is unknown too: a backend without logprobs never gets a mean made of
    caps). An answer without a cross-entropy (no logprobs, or its letter not found in them) is counted in
    `<prefix>_ce_missing` and left out of the mean, which is null when no item has one."""
    answered = {(a["prompt_id"], a["item_id"]): a for a in answers}
    unanswered_ce = CE_MAX if any(a["cross_entropy"] is not None for a in answers) else None
    n = len(items)
    rows = []
    for p in prompts:
        mine = [answered.get((p["id"], it["id"])) for it in items]
        kept = [a for a in mine if a is not None]
        results = [{"item_id": it["id"], "answer": it["answer"], "letter": a["letter"] if a else None,
                    "cross_entropy": a["cross_entropy"] if a else unanswered_ce}
                   for it, a in zip(items, mine, strict=True)]
        known = [r["cross_entropy"] for r in results if r["cross_entropy"] is not None]
        rows.append({**p,
                     f"{prefix}_n": n,
                     f"{prefix}_correct": sum(a["correct"] for a in kept),
                     f"{prefix}_accuracy": round(sum(a["correct"] for a in kept) / n, 6),
                     f"{prefix}_compliance": round(sum(a["strict"] for a in kept) / n, 6),
                     f"{prefix}_cross_entropy": round(sum(known) / len(known), 6) if known else None,
                     f"{prefix}_ce_missing": n - len(known),
                     f"{prefix}_unanswered": n - len(kept),
                     f"{prefix}_ce_source": "/".join(sorted({a["ce_source"] for a in kept})) or None,
                     f"{prefix}_results": results})
    return rows


def rank_key(row: dict) -> tuple:
    """Best first: higher train accuracy, then lower train cross-entropy (unknown last), then id."""
    ce = row["train_cross_entropy"]
    return (-row["train_accuracy"], ce is None, ce or 0.0, row["id"])
