"""make_llm: the plain factory from a role's config to an LLM. Backends are imported only when chosen, so a
run on sim or openai never imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.llm.cache import ResponseCache
from engine.llm.client import LLM
from engine.llm.config import load_config
from engine.llm.limits import SharedRateLimit, limits_dir, shared_slots


def make_llm(role_cfg: Any, *, stage: str, role: str, cache_dir: Path | str, ledger: list, truth: list,
             answered: set[tuple[str, str]] | None = None) -> LLM:
    cfg = load_config(role_cfg, where=f"roles.{role}" if role else "llm")
    cache_dir = Path(cache_dir)
    slots = rate = None
    if cfg.backend == "sim":
        from engine.llm.sim_backend import SimBackend

        backend: Any = SimBackend(cfg)
    elif cfg.backend == "openai" and isinstance(cfg.base_url, list):
        from engine.llm.fleet import Fleet

        backend = Fleet(cfg, cache_dir)  # holds each endpoint's own slots and rate limits
        cfg = backend.llm_config
    elif cfg.backend == "openai":
        from engine.llm.openai_backend import OpenAIBackend

        backend = OpenAIBackend(cfg)
        shared = limits_dir(cache_dir, backend.base_url)
        slots = shared_slots(shared, cfg.max_in_flight)
        if cfg.rpm or cfg.tpm:
            rate = SharedRateLimit(shared / "rate.sqlite", rpm=cfg.rpm, tpm=cfg.tpm)
    elif cfg.backend == "replay":
        from engine.llm.replay_backend import ReplayBackend

        backend = ReplayBackend(cfg)
    else:
        from engine.llm.hf_backend import HFBackend

        backend = HFBackend(cfg)
    if cfg.cache_db:
        from engine.llm.pg_cache import PgResponseCache

        cache: Any = PgResponseCache(cfg.cache_db, cfg.cache)
    else:
        cache = ResponseCache(cache_dir / "llm_responses.sqlite", cfg.cache)
    batches = None
    if cfg.mode == "batch":
        from engine.llm.batch import BatchJournal

        batches = BatchJournal(cache_dir / "llm_batches.sqlite")
    return LLM(cfg, backend, stage=stage, role=role, cache=cache, ledger=ledger, truth=truth, slots=slots, rate=rate,
               answered=answered, batches=batches)
