"""The preflight of the model roles: each role block names a role a stage uses, each role's config (the `llm` group
with `roles.<role>` merged over it) is valid, at the key the user wrote and with the nearest known key for a typo,
its backend's package is installed, and its key or files are there (its endpoint: engine.preflight_endpoints)."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

from pydantic import ValidationError

from engine.config import ConfigError, RunConfig, validation_error
from engine.config_keys import did_you_mean
from engine.graph import Graph, resolve_path
from engine.llm.config import LLMConfig
from engine.llm.sim_backend import sim_module
from engine.run_env import role_config

SIM_SETTINGS = ("seed", "latency_ms")  # the sim block's own keys; every other key is an experiment's rates


def roles_used(graph: Graph) -> list[str]:
    return sorted({role for stage in graph.stages.values() for role in stage.spec.llm})


def role_key(config: RunConfig, role: str, key: str) -> str:
    """Where a role's setting (`key`, dotted) was written: its own block when it sets it, else the `llm` group."""
    node: object = config.roles.get(role, {})
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return f"llm.{key}"
        node = node[part]
    return f"roles.{role}.{key}"


def role_settings(config: RunConfig, role: str) -> LLMConfig:
    """A role's validated model config, or a ConfigError at the key the user wrote."""
    try:
        return LLMConfig.model_validate(role_config(config, role))
    except ValidationError as e:
        err = validation_error(e, model=LLMConfig)
        raise ConfigError(role_key(config, role, err.key), err.message) from None


def check_model_roles(config: RunConfig, graph: Graph) -> None:
    """Every role block is used by a stage; every role a stage uses has a valid config, its backend's package
    installed, its key or files present."""
    used = roles_used(graph)
    for role in config.roles:
        if role not in used:  # e.g. `+roles.jduge.model=...`: the judge would run on the default model
            raise ConfigError(f"roles.{role}", f"unknown role: no stage uses it; {did_you_mean(role, used)}")
    for role in used:
        cfg = role_settings(config, role)
        if cfg.backend == "openai":
            _need_package("openai", "openai[aiohttp]", role_key(config, role, "backend"))
            if not (cfg.api_key or os.environ.get("OPENAI_API_KEY")):
                raise ConfigError(role_key(config, role, "api_key"),
                                  f"role {role!r} uses the openai backend, but the key is null and OPENAI_API_KEY is "
                                  "not set; set one of them (any string for a local server such as vLLM)")
        elif cfg.backend == "hf":
            for package in ("torch", "transformers"):
                _need_package(package, package, role_key(config, role, "backend"))
            _need_local_model(cfg.model, role_key(config, role, "model"))
        elif cfg.backend == "replay":
            for task, file in cfg.replay.files.items():
                if not resolve_path(file).is_file():
                    raise ConfigError(f"{role_key(config, role, 'replay')}.files.{task}",
                                      f"recorded generations not found: {file}")


def _need_package(module: str, package: str, key: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigError(key, f"this backend needs the {module!r} package: pip install '{package}'")


def _need_local_model(model: str, key: str) -> None:
    """The hf backend loads from a directory or the Hugging Face cache, never downloading (engine.llm.hf_backend)."""
    if Path(model).is_dir():
        return
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(model, "config.json")
    except HFValidationError:  # a path, not a repo id
        cached = None
    if not isinstance(cached, str):
        raise ConfigError(key, f"no model directory {model!r} (nor a model of that name in the Hugging Face cache); "
                               "the hf backend loads local models only")


def _has_sim(experiment: str) -> bool:
    try:
        return importlib.util.find_spec(sim_module(experiment)) is not None
    except ModuleNotFoundError:  # no package sims.<experiment>
        return False


def check_sim_settings(config: RunConfig) -> None:
    """Each key of a `sim` block is one of its settings or an experiment's block of error rates, and each rate is
    one that experiment's sim teacher knows (its DEFAULTS): the teacher reads a missing rate from them, so a
    misspelt one would be silently replaced by its default."""
    blocks = [("llm.sim", config.llm.get("sim") or {})]
    blocks += [(f"roles.{r}.sim", c["sim"]) for r, c in config.roles.items() if isinstance(c.get("sim"), dict)]
    for where, sim in blocks:
        for experiment, rates in sim.items():
            if experiment in SIM_SETTINGS or experiment == "generic":
                continue
            if not isinstance(rates, dict) or not _has_sim(experiment):
                known = [*SIM_SETTINGS, *(e for e, r in sim.items() if isinstance(r, dict))]
                raise ConfigError(f"{where}.{experiment}",
                                  f"unknown key: neither a sim setting nor an experiment with a sim teacher; "
                                  f"{did_you_mean(experiment, known)}")
            defaults = getattr(importlib.import_module(sim_module(experiment)), "DEFAULTS", None)
            for rate in rates if defaults is not None else ():
                if rate not in defaults:
                    raise ConfigError(f"{where}.{experiment}.{rate}",
                                      f"unknown key; {did_you_mean(rate, defaults)}")
