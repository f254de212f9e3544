"""The run configuration: typed schemas for what Hydra composes, and errors that name the config key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]

STAGE_KINDS = ("source", "fn", "map", "filter", "sql", "loop")


class ConfigError(Exception):
    """A configuration mistake, found before any work is done. `key` is the dotted config path."""

    def __init__(self, key: str, message: str):
        super().__init__(f"config error at {key}: {message}")
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UntilSpec(_Strict):
    """When a loop stops early: a SQL predicate over the run's tables, or a callable returning bool."""

    sql: str | None = None
    fn: str | None = None
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_kind(self) -> UntilSpec:
        if (self.sql is None) == (self.fn is None):
            raise ValueError("give exactly one of 'sql' or 'fn'")
        return self


class LoopSpec(_Strict):
    """A group of stages that repeats; every iteration's rows are kept, tagged `iteration`."""

    max_iterations: int = Field(ge=1)
    until: UntilSpec | None = None
    # stage inside the loop -> outer stage whose rows stand for `<stage>@prev` in iteration 0
    init: dict[str, str] = {}
    stages: dict[str, StageSpec]


class ShardSpec(_Strict):
    """A Python stage whose function may be called on consecutive chunks of one input, its outputs concatenated
    (engine.executor). Chunk boundaries depend only on `size`, never on the executor or the number of workers."""

    input: str  # the argument (input alias) that is split; other inputs reach every chunk whole
    size: int = Field(ge=1)  # rows per chunk


class StageSpec(_Strict):
    """One stage. Exactly one of source / fn / map / filter / sql / loop says what runs it."""

    source: str | None = None  # a data file: .jsonl .json .txt .csv .parquet
    fn: str | None = None  # "module:function" over whole inputs
    map: str | None = None  # "module:function" called per row of the single input
    filter: str | None = None  # "module:function" per row: True keeps, a string is the reject reason
    sql: str | None = None  # a SELECT in sql/<experiment>/<name>.sql
    loop: LoopSpec | None = None
    inputs: list[str] | dict[str, str] = []
    params: dict[str, Any] = {}
    llm: list[str] = []  # roles the stage calls (their result-relevant config is in its fingerprint)
    sandbox: bool = False
    version: str = ""  # bump to recompute after a change the fingerprint cannot see
    # keep finished slices in the shared stage store; default: Python and source stages yes, SQL stages no
    # (recomputing a SELECT from stored inputs costs about what copying its result back would)
    store: bool | None = None
    max_errors: int = Field(default=0, ge=0)  # rows a map/filter may fail on before the stage fails
    shard: ShardSpec | None = None  # run in chunks, on the run's executor (local or ray)
    description: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> StageSpec:
        given = [k for k in STAGE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(STAGE_KINDS)}; found {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in STAGE_KINDS if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        return getattr(self, self.kind)


LoopSpec.model_rebuild()


class StoreConfig(_Strict):
    kind: Literal["local", "ducklake"] = "local"
    reuse: bool = True  # reuse finished stages from the shared stage store
    # ducklake (engine.ducklake_store): the PostgreSQL catalog (libpq string) and the shared Parquet directory
    catalog: str | None = None
    data_path: str | None = None

    @model_validator(mode="after")
    def _ducklake_has_its_places(self) -> StoreConfig:
        if self.kind == "ducklake" and not (self.catalog and self.data_path):
            raise ValueError("store=ducklake needs store.catalog (a PostgreSQL connection) and store.data_path")
        return self


class RunConfig(BaseModel):
    """The root config. Experiment parameter blocks (e.g. `autoif:`) are extra top-level keys; Hydra itself
    rejects overrides of keys that do not exist, and stages validate the values they receive."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    seed: int = 0
    cache_dir: str = ".cache"
    stages: dict[str, StageSpec]
    llm: dict[str, Any] = {}
    roles: dict[str, dict[str, Any]] = {}
    sandbox: dict[str, Any] = {}
    store: StoreConfig = StoreConfig()
    progress: bool = True
    report: str | None = None  # "module:function" adding the experiment's own sections to summary.json


def _key_of(loc: tuple) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]"
        elif p in ("StageSpec", "LoopSpec", "UntilSpec"):
            continue
        else:
            parts.append(str(p))
    return ".".join(parts) or "<root>"


def validation_error(err: ValidationError, prefix: str = "") -> ConfigError:
    first = err.errors()[0]
    key = _key_of(first["loc"])
    key = f"{prefix}.{key}" if prefix and key != "<root>" else (prefix or key)
    found = first.get("input")
    found_txt = "" if isinstance(found, dict) else f" (found {found!r})"
    return ConfigError(key, f"{first['msg']}{found_txt}")


def load(cfg: DictConfig | dict) -> RunConfig:
    """Resolve interpolations and validate; raise ConfigError naming the first bad key."""
    if isinstance(cfg, DictConfig):
        try:
            data = OmegaConf.to_container(cfg, resolve=True)
        except OmegaConfBaseException as e:
            raise ConfigError(getattr(e, "full_key", None) or "<root>", str(e).splitlines()[0]) from e
    else:
        data = cfg
    if not data.get("name") or data.get("name") == "???":
        raise ConfigError("name", "no experiment chosen: run with +experiment=NAME")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise validation_error(e) from e
