"""Fingerprints: a stage slice's hash of everything that decides its output (its code and the project code it
imports, its parameters, its inputs' fingerprints, its models' result-relevant settings and endpoint, the sandbox
policy, the seed, the iteration). Equal fingerprints mean the stored slice can be reused."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.graph import InputRef, Stage, params_for_fingerprint, sha256
from engine.run_env import loop_init

if TYPE_CHECKING:
    from engine.run_env import RunEnv

ENGINE_VERSION = "1"  # bump when a change in the engine changes what stages produce
# config keys that change how fast or how safely results come, never what they are
NOT_IN_FINGERPRINT = {"max_in_flight", "rpm", "tpm", "timeout_s", "max_retries", "cache", "api_key", "base_url",
                      "prices", "latency_ms", "workers", "progress", "batch_size", "device", "backoff_s",
                      "backoff_max_s", "cache_db", "stop_after_failures", "max_failure_rate", "mode", "batch",
                      "endpoint_id", "transport"}  # base_url, endpoint_id: the endpoint's identity is hashed instead


def _semantic(cfg: Any) -> Any:
    if isinstance(cfg, dict):
        return {k: _semantic(v) for k, v in sorted(cfg.items()) if k not in NOT_IN_FINGERPRINT}
    return cfg


def stage_fingerprint(stage: Stage, iteration: int | None, env: RunEnv) -> str:
    cfg = env.config
    payload = {
        "engine": ENGINE_VERSION,
        "stage": stage.name,
        "kind": stage.kind,
        "code": stage.code_hash,
        "version": stage.spec.version,
        "params": params_for_fingerprint(stage.params),
        "inputs": {ref.alias: input_fingerprint(ref, iteration, env) for ref in stage.inputs},
        "llm": {role: llm_fingerprint(stage, env.role_config(role)) for role in stage.spec.llm},
        "sandbox": _semantic(dict(cfg.sandbox)) if stage.spec.sandbox else None,
        "seed": cfg.seed,
        "iteration": iteration,
    }
    if stage.spec.shard is not None:  # chunks seed ctx.rng; unsharded stages keep the fingerprint they had
        payload["shard"] = stage.spec.shard.model_dump()
    return sha256(json.dumps(payload, sort_keys=True, default=str))


def llm_fingerprint(stage: Stage, role_cfg: dict) -> Any:
    """A role's result-relevant config; on the sim backend also the code of the experiment's sim teacher,
    since that code is the model."""
    if role_cfg.get("backend", "sim") != "sim":
        return {**_semantic(role_cfg), "endpoint": endpoint_of(role_cfg)}
    from engine.llm.sim_backend import sim_code_hash

    experiment = stage.func.__module__.split(".")[1] if stage.func.__module__.startswith("stages.") else "generic"
    return {"config": _semantic(role_cfg), "sim_code": sim_code_hash(experiment)}


def endpoint_of(role_cfg: dict) -> str | None:
    """Which server answers a role (openai: endpoint_id or the normalised base_url), as in the cache key."""
    if role_cfg.get("backend") != "openai":
        return None
    from engine.llm.config import load_config
    from engine.llm.openai_backend import endpoint_identity

    return endpoint_identity(load_config(role_cfg))


def input_fingerprint(ref: InputRef, iteration: int | None, env: RunEnv) -> str:
    fps = env.fingerprints
    loop = env.graph.stages[ref.stage].loop
    if ref.scope == "current":
        return fps[(ref.stage, iteration)]
    if ref.scope == "prev":
        if iteration == 0:
            start = loop_init(env.graph.stages[ref.stage], env).get(ref.stage)
            return fps[(start, None)] if start else "empty"
        return fps[(ref.stage, iteration - 1)]
    if ref.scope == "history":
        return sha256(",".join(fps[(ref.stage, j)] for j in range(iteration)))
    if loop is None:
        return fps[(ref.stage, None)]
    done = env.iterations[loop]
    if ref.scope == "last":
        return fps[(ref.stage, done - 1)]
    return sha256(",".join(fps[(ref.stage, j)] for j in range(done)))
