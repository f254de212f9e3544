"""The hf backend: a local `transformers` model loaded from a path (never downloaded), on CPU or CUDA.

Generation goes through the chat template, in batches: concurrent calls from the LLM layer are gathered
into batches of `hf.batch_size` requests that share sampling parameters and run in a worker thread, so the
event loop stays free. Token logprobs are log-softmax of the raw logits at each generated position, with
the top alternatives. `classify` runs a sequence-classification model on (premise, hypothesis) pairs (NLI).
Sampling is seeded from the batch's prompts and sample indices, so a batch replays exactly; a request's
sample may still depend on which batch it shared, which the response cache makes harmless on reruns.
Sampling uses the model's own generation config (its top_k, repetition penalty) beside the request's
temperature and top_p: forcing top_k=0 turned a small model's replies at temperature 1.2 into word salad.
Loaded models are kept for the process (every stage makes its own backend; reloading per stage cost seconds each).
A request's latency is its batch's compute time shared among the batch, not the time it queued for a batch.
torch and transformers are imported here only, when the backend is made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from engine.llm.config import LLMConfig
from engine.llm.types import LLMConfigError, Request, Response, TokenLogprob

# (auto class, path, dtype, device) -> (tokenizer, model), shared by every backend of the process; the lock makes
# two stages' threads load a model once
_LOADED: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}
_LOADING = threading.Lock()
# label words an NLI classifier's labels must contain (mDeBERTa XNLI: entailment, neutral, contradiction)
NLI_LABEL_WORDS = ("entail", "neutral", "contradict")


def _import_torch() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as err:
        raise LLMConfigError(
            f"backend hf needs torch and transformers ({err}); install them with `pip install torch transformers`"
        ) from err
    return torch, transformers


class HFBackend:
    name = "hf"

    def __init__(self, cfg: LLMConfig):
        self.cfg = cfg
        self.torch, self.transformers = _import_torch()
        self._pending: list[tuple[Request, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None

    def key_parts(self, request: Request) -> dict[str, Any]:
        return {}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        yield

    # ------------------------------------------------------------------------------------------- loading

    def _load(self, auto_class: str) -> tuple[Any, Any]:
        path, hf = self.cfg.model, self.cfg.hf
        where = (auto_class, path, hf.dtype, hf.device)
        with _LOADING:
            if where not in _LOADED:
                _LOADED[where] = self._load_uncached(auto_class)
            return _LOADED[where]

    def _load_uncached(self, auto_class: str) -> tuple[Any, Any]:
        path, hf = self.cfg.model, self.cfg.hf
        dtype = hf.dtype if hf.dtype == "auto" else getattr(self.torch, hf.dtype)
        try:
            tokenizer = self.transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = getattr(self.transformers, auto_class).from_pretrained(path, dtype=dtype, local_files_only=True)
        except OSError as err:
            raise LLMConfigError(f"llm.model={path!r}: cannot load a local {auto_class} from it: {err}") from err
        if auto_class == "AutoModelForCausalLM":
            tokenizer.padding_side = "left"  # generation continues after the last prompt token
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
        else:
            _check_nli_labels(path, model.config.id2label)
        return tokenizer, model.to(hf.device).eval()

    def _language_model(self) -> tuple[Any, Any]:
        return self._load("AutoModelForCausalLM")

    def _sequence_classifier(self) -> tuple[Any, Any]:
        return self._load("AutoModelForSequenceClassification")

    # ---------------------------------------------------------------------------------------- generation

    async def call(self, request: Request) -> tuple[Response, Any]:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future, None

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the rest of this wave of calls queue up first
        while self._pending:
            head = _sampling(self._pending[0][0])
            batch = [item for item in self._pending if _sampling(item[0]) == head][: self.cfg.hf.batch_size]
            self._pending = [item for item in self._pending if item not in batch]
            started = time.perf_counter()
            try:
                responses = await asyncio.to_thread(self._generate, [request for request, _ in batch])
            except Exception as err:  # e.g. out of memory: each request of the batch fails, recorded
                for _, future in batch:
                    future.set_exception(err)
            else:
                compute_s = (time.perf_counter() - started) / len(batch)
                for (_, future), response in zip(batch, responses, strict=True):
                    future.set_result(dataclasses.replace(response, compute_s=compute_s))

    def _generate(self, requests: list[Request]) -> list[Response]:
        torch = self.torch
        tokenizer, model = self._language_model()
        prompts = [
            tokenizer.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True) for r in requests
        ]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        first = requests[0]
        want_logprobs = any(r.logprobs for r in requests)
        options: dict[str, Any] = {
            "max_new_tokens": first.max_tokens or 256,
            "return_dict_in_generate": True,
            "output_logits": want_logprobs,
            "pad_token_id": tokenizer.pad_token_id,
        }
        if first.temperature:
            options |= {
                "do_sample": True,
                "temperature": first.temperature,
                "top_p": first.top_p or 1.0,
            }
        else:
            options |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        seed_material = json.dumps([[r.messages, r.sample_index] for r in requests], sort_keys=True).encode()
        torch.manual_seed(int.from_bytes(hashlib.sha256(seed_material).digest()[:8], "little"))
        with torch.inference_mode():
            out = model.generate(**encoded, **options)
        generated = out.sequences[:, encoded["input_ids"].shape[1] :]
        eos_ids = set(_as_list(model.generation_config.eos_token_id)) | {tokenizer.eos_token_id}
        responses = []
        for i, request in enumerate(requests):
            ids = generated[i].tolist()
            end = next((k for k, t in enumerate(ids) if t in eos_ids), None)
            ids = ids if end is None else ids[:end]
            text = tokenizer.decode(ids, skip_special_tokens=True)
            finish_reason = "length" if end is None else "stop"
            cut = min((p for s in request.stop or [] if (p := text.find(s)) >= 0), default=None)
            if cut is not None:
                text, finish_reason = text[:cut], "stop"
            logprobs = None
            if request.logprobs:
                logprobs = self._token_logprobs(
                    tokenizer, [step[i] for step in out.logits[: len(ids)]], ids, request.top_logprobs or 1
                )
            responses.append(
                Response(
                    ok=True,
                    text=text,
                    finish_reason=finish_reason,
                    logprobs=logprobs,
                    prompt_tokens=int(encoded["attention_mask"][i].sum()),
                    completion_tokens=len(ids),
                )
            )
        return responses

    def _token_logprobs(self, tokenizer: Any, logits: list[Any], ids: list[int], top_n: int) -> list[TokenLogprob]:
        out = []
        for step_logits, token_id in zip(logits, ids, strict=True):
            logprobs = self.torch.log_softmax(step_logits.float(), dim=-1)
            values, indices = logprobs.topk(top_n)
            top = {tokenizer.decode([j]): float(v) for v, j in zip(values.tolist(), indices.tolist(), strict=True)}
            out.append(TokenLogprob(tokenizer.decode([token_id]), float(logprobs[token_id]), top))
        return out

    # ------------------------------------------------------------------------------------ classification

    def classify(self, pairs: list[tuple[str, str]]) -> tuple[list[dict[str, float]], list[int]]:
        """Label probabilities per (premise, hypothesis) pair, and the input tokens of each."""
        tokenizer, model = self._sequence_classifier()
        labels = model.config.id2label
        results: list[dict[str, float]] = []
        token_counts: list[int] = []
        size = self.cfg.hf.batch_size
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            encoded = tokenizer(
                [p for p, _ in chunk],
                [h for _, h in chunk],
                padding=True,
                truncation=True,
                return_tensors="pt",
            ).to(model.device)
            with self.torch.inference_mode():
                probs = self.torch.softmax(model(**encoded).logits.float(), dim=-1).tolist()
            results += [{labels[k]: p for k, p in enumerate(row)} for row in probs]
            token_counts += encoded["attention_mask"].sum(dim=1).tolist()
        return results, token_counts


def nli_labels_problem(id2label: dict[int, str]) -> str | None:
    """Why a classifier's labels name no NLI relation (a causal LM read as one says LABEL_0, LABEL_1), which would
    leave every row `no_label`; None when they name all three."""
    labels = [str(label).lower() for label in id2label.values()]
    missing = [word for word in NLI_LABEL_WORDS if not any(word in label for label in labels)]
    if not missing:
        return None
    return (f"an NLI classifier's labels must name entailment, neutral and contradiction; found "
            f"{sorted(id2label.values())} (no label containing {missing}): is it an NLI checkpoint?")


def _check_nli_labels(path: str, id2label: dict[int, str]) -> None:
    if (problem := nli_labels_problem(id2label)) is not None:
        raise LLMConfigError(f"llm.model={path!r}: {problem}")


def nli_classifier_problem(role_cfg: dict[str, Any]) -> str | None:
    """Why a role (its merged model config) cannot classify NLI pairs: a backend other than hf, or an hf model
    whose config.json (read alone: no weights are loaded) has no NLI labels. None when it can, or when the model
    cannot be read here (no transformers, no such directory): the role's own preflight names that."""
    backend = role_cfg.get("backend", "sim")
    if backend != "hf":
        return (f"its backend is {backend!r}, which cannot classify (backend hf with a local sequence-classification "
                "checkpoint, e.g. an mDeBERTa XNLI, can)")
    try:
        from transformers import AutoConfig

        id2label = AutoConfig.from_pretrained(str(role_cfg.get("model")), local_files_only=True).id2label
    except (ImportError, OSError, ValueError):
        return None
    problem = nli_labels_problem(id2label)
    return None if problem is None else f"its model {role_cfg.get('model')!r}: {problem}"


def _sampling(request: Request) -> tuple:
    """Requests that can share one generate() call."""
    return request.temperature, request.top_p, request.max_tokens


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
