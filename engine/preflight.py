"""The preflight: everything about a run that can be wrong before its first stage, found in seconds and before
the first model call is paid for. Config and graph (engine.config, engine.graph), then what they point at: source
files parse completely, the cache directory takes files, the sandbox starts a worker with its limits, each model
role's backend has its package and its key, and each OpenAI-compatible endpoint answers. Every mistake is a
ConfigError at the key the user typed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from engine.compute import source_select
from engine.config import PROJECT_ROOT, ConfigError, RunConfig, in_user_terms, load
from engine.config_keys import did_you_mean
from engine.executor import check_shards, load_executor_config
from engine.graph import Graph, Loop, build, resolve_path
from engine.run_env import role_config

DEFAULT_ENDPOINT = "https://api.openai.com/v1"
ENDPOINT_TIMEOUT_S = 10.0


def check(cfg: DictConfig | dict) -> tuple[RunConfig, Graph]:
    """The validated config and its checked graph, or a ConfigError naming the key the user typed."""
    try:
        config = load(cfg)
        graph = build(config)
        load_executor_config(config)
        check_shards(graph)
        check_model_roles(config, graph)
        check_sim_settings(config)
        check_sources(graph)
        check_cache_dir(config)
        check_sandbox(config, graph)
        if config.check_endpoints:
            check_endpoints(config, graph)
    except ConfigError as e:
        raise in_user_terms(e, cfg) from None
    return config, graph


def check_command(cfg: DictConfig) -> int:
    """`python -m engine --check ...`: the preflight and the graph it would run, no stage run, nothing paid."""
    import sys

    try:
        config, graph = check(cfg)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    print(describe(config, graph))
    return 0


def describe(config: RunConfig, graph: Graph) -> str:
    """The resolved graph in execution order: each stage's kind, what runs it, its inputs, roles and sandbox."""
    lines = [f"{config.name}: {len(graph.stages)} stages, config and data checked"]

    def line(stage: Any, indent: str) -> str:
        inputs = ", ".join(ref.alias if ref.alias == ref.stage else f"{ref.alias}={ref.stage}" for ref in stage.inputs)
        uses = [*(f"llm:{role}" for role in stage.spec.llm), *(["sandbox"] if stage.spec.sandbox else [])]
        return (f"{indent}{stage.name}  {stage.kind} {stage.spec.target}" + (f"  <- {inputs}" if inputs else "")
                + (f"  [{', '.join(uses)}]" if uses else ""))

    for node in graph.order:
        if isinstance(node, Loop):
            lines.append(f"  {node.name}  loop, at most {node.spec.max_iterations} iterations")
            lines.extend(line(stage, "    ") for stage in node.stages)
        else:
            lines.append(line(node, "  "))
    for role in _roles_used(graph):
        cfg = role_config(config, role)
        lines.append(f"  role {role}: {cfg.get('backend', 'sim')} {cfg.get('model', '')}"
                     + (f" at {cfg['base_url']}" if cfg.get("base_url") else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- model roles


def _role_key(config: RunConfig, role: str, name: str) -> str:
    """Where a role's setting was written: its own block when it sets it, else the shared `llm` group."""
    return f"roles.{role}.{name}" if name in config.roles.get(role, {}) else f"llm.{name}"


def _roles_used(graph: Graph) -> list[str]:
    return sorted({role for stage in graph.stages.values() for role in stage.spec.llm})


def check_model_roles(config: RunConfig, graph: Graph) -> None:
    """Every role a stage uses: a valid config, its backend's package installed, its key or files present."""
    from engine.llm.config import load_config
    from engine.llm.types import LLMConfigError

    for role in _roles_used(graph):
        try:
            cfg = load_config(role_config(config, role), where=f"roles.{role}")
        except LLMConfigError as e:
            raise ConfigError(f"roles.{role}", str(e)) from e
        if cfg.backend == "openai":
            _need_package("openai", "openai[aiohttp]", _role_key(config, role, "backend"))
            if not (cfg.api_key or os.environ.get("OPENAI_API_KEY")):
                raise ConfigError(_role_key(config, role, "api_key"),
                                  f"role {role!r} uses the openai backend, but the key is null and OPENAI_API_KEY is "
                                  "not set; set one of them (any string for a local server such as vLLM)")
        elif cfg.backend == "hf":
            for package in ("torch", "transformers"):
                _need_package(package, package, _role_key(config, role, "backend"))
        elif cfg.backend == "replay":
            for task, file in cfg.replay.files.items():
                if not resolve_path(file).is_file():
                    raise ConfigError(f"{_role_key(config, role, 'replay')}.files.{task}",
                                      f"recorded generations not found: {file}")


def _need_package(module: str, package: str, key: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigError(key, f"this backend needs the {module!r} package: pip install '{package}'")


def check_sim_settings(config: RunConfig) -> None:
    """Each `sim.<experiment>` block of error rates names rates that experiment's sim teacher knows (its DEFAULTS);
    the teacher reads a missing rate from them, so a misspelt one would be silently replaced by its default."""
    blocks = [("llm.sim", config.llm.get("sim") or {})]
    blocks += [(f"roles.{r}.sim", c["sim"]) for r, c in config.roles.items() if isinstance(c.get("sim"), dict)]
    for where, sim in blocks:
        for experiment, rates in sim.items():
            if experiment in ("seed", "latency_ms") or not isinstance(rates, dict) or experiment == "generic":
                continue
            if importlib.util.find_spec(f"stages.{experiment}") is None:
                raise ConfigError(f"{where}.{experiment}", f"no experiment {experiment!r} has a sim teacher")
            defaults = getattr(importlib.import_module(f"stages.{experiment}.sim_teacher"), "DEFAULTS", None)
            for rate in rates if defaults is not None else ():
                if rate not in defaults:
                    raise ConfigError(f"{where}.{experiment}.{rate}",
                                      f"unknown key; {did_you_mean(rate, defaults)}")


def check_endpoints(config: RunConfig, graph: Graph) -> None:
    """One GET /models per OpenAI-compatible endpoint: a server that is down or refuses the key is found now,
    not after the stages before the first model stage have run. Any other answer (even 404) means it is up."""
    from engine.llm.config import load_config

    checked: set[str] = set()
    for role in _roles_used(graph):
        cfg = load_config(role_config(config, role), where=f"roles.{role}")
        if cfg.backend != "openai":
            continue
        key = cfg.api_key or os.environ.get("OPENAI_API_KEY")
        for url in cfg.base_url if isinstance(cfg.base_url, list) else [cfg.base_url or DEFAULT_ENDPOINT]:
            if url in checked:
                continue
            checked.add(url)
            request = urllib.request.Request(f"{url.rstrip('/')}/models", headers={"Authorization": f"Bearer {key}"})
            try:
                with urllib.request.urlopen(request, timeout=min(cfg.timeout_s, ENDPOINT_TIMEOUT_S)) as reply:
                    status = reply.status
            except urllib.error.HTTPError as e:
                status = e.code
            except (OSError, ValueError) as e:  # refused, unresolvable, timed out, not a URL
                reason = getattr(e, "reason", None) or e
                raise ConfigError(_role_key(config, role, "base_url"),
                                  f"endpoint {url} does not answer GET /models ({reason}); is the server running? "
                                  "(check_endpoints=false skips this check)") from None
            if status in (401, 403):
                raise ConfigError(_role_key(config, role, "api_key"),
                                  f"endpoint {url} refused the API key (HTTP {status} on GET /models)")


# ---------------------------------------------------------------------------------------------- sources


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def check_sources(graph: Graph) -> None:
    for stage in graph.stages.values():
        if stage.kind == "source":
            check_source_file(stage.source_path, f"{stage.key}.source")


def check_source_file(path: Path, key: str) -> None:
    """The whole file reads as its format says, and holds at least one row."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(key, f"cannot read {_shown(path)}: {e.strerror}") from None
    if path.suffix in (".csv", ".parquet"):
        return _check_with_duckdb(path, key)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError(key, f"{_shown(path)} line {line}: not UTF-8 (byte 0x{data[e.start]:02x} at column "
                               f"{column}); save the file as UTF-8") from None
    if path.suffix == ".txt":
        rows = sum(1 for line in text.splitlines() if line.strip())
    elif path.suffix == ".jsonl":
        rows = _jsonl_rows(text, path, key)
    else:
        rows = _json_rows(text, path, key)
    if rows == 0:
        raise ConfigError(key, f"{_shown(path)} has no rows: it is empty or holds only blank lines")


def _jsonl_rows(text: str, path: Path, key: str) -> int:
    rows = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(key, f"{_shown(path)} line {number}: not valid JSON ({e.msg} at column {e.colno})") \
                from None
        if not isinstance(value, dict):
            raise ConfigError(key, f"{_shown(path)} line {number}: expected a JSON object, found "
                                   f"{type(value).__name__}")
        rows += 1
    return rows


def _json_rows(text: str, path: Path, key: str) -> int:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(key, f"{_shown(path)} line {e.lineno}: not valid JSON ({e.msg} at column {e.colno})") \
            from None
    if isinstance(value, dict):
        return 1
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(key, f"{_shown(path)}: expected a JSON object or a list of objects")
    return len(value)


def _check_with_duckdb(path: Path, key: str) -> None:
    import duckdb

    try:
        (rows,) = duckdb.sql(f"SELECT count(*) FROM ({source_select(path)})").fetchone()
    except duckdb.Error as e:
        raise ConfigError(key, f"{_shown(path)} does not read: {str(e).splitlines()[0]}") from None
    if rows == 0:
        raise ConfigError(key, f"{_shown(path)} has no rows")


# ---------------------------------------------------------------------------------------------- directories, sandbox


def check_writable(path: Path, key: str) -> None:
    """`path` is (or can be made) a directory a file can be written in."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigError(key, f"cannot write to {path}: {e.strerror or e}") from None


def check_cache_dir(config: RunConfig) -> None:
    cache_dir = resolve_path(config.cache_dir)
    check_writable(cache_dir, "cache_dir")
    check_writable(cache_dir / "stages", "cache_dir")


def check_sandbox(config: RunConfig, graph: Graph) -> None:
    """A worker starts with the configured limits and runs a trivial job, when a stage uses the sandbox."""
    if not any(stage.spec.sandbox for stage in graph.stages.values()):
        return
    from engine.sandbox import Job, Sandbox

    settings: dict[str, Any] = {**config.sandbox, "workers": 1, "cache": "off"}
    try:
        sandbox = Sandbox(**settings)
    except ValueError as e:  # its messages start with the key: "sandbox.memory_mb: expected ..."
        key, _, message = str(e).partition(": ")
        raise ConfigError(key if key.startswith("sandbox.") else "sandbox", message or str(e)) from None
    with sandbox:
        (outcome,) = sandbox.run([Job(source="def evaluate():\n    return True\n", entry="evaluate")])
    if outcome.status != "ok":
        key = {"memory": "sandbox.memory_mb", "timeout": "sandbox.timeout_s"}.get(outcome.status, "sandbox")
        raise ConfigError(key, f"a sandbox worker with these limits cannot run a trivial job: {outcome.status}: "
                               f"{outcome.message}")


class RunDirWritable(Callback):
    """Hydra creates the run (or sweep) directory before the run starts, with a traceback when it cannot: check
    it first and say which setting to change."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.run.dir, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.sweep.dir, "hydra.sweep.dir")

    @staticmethod
    def _check(directory: str, key: str) -> None:
        import sys

        try:
            check_writable(resolve_path(directory), key)
        except ConfigError as e:
            print(e, file=sys.stderr)
            sys.exit(1)
