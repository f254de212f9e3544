"""The run configuration: typed schemas for what Hydra composes, and errors that name the config key."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.config_keys import aliases, did_you_mean, origin_of, references, unread_keys

PROJECT_ROOT = Path(__file__).resolve().parents[1]

STAGE_KINDS = ("source", "fn", "map", "filter", "sql", "loop")


class ConfigError(Exception):
    """A configuration mistake, found before any work is done. `key` is the dotted config path."""

    def __init__(self, key: str, message: str):
        super().__init__(f"config error at {key}: {message}")
        self.key = key
        self.message = message


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
    # keep finished slices in the shared stage store (default yes): a run in a fresh directory reuses them, a
    # whole table as a view of the stored Parquet; `false` for a stage whose result is not worth keeping
    store: bool = True
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
    # ducklake (engine.store.ducklake): the PostgreSQL catalog (libpq string) and the shared Parquet directory
    catalog: str | None = None
    data_path: str | None = None

    @model_validator(mode="after")
    def _ducklake_has_its_places(self) -> StoreConfig:
        unset = ("", "???", None)  # conf/store/ducklake.yaml: `???` when its environment variable is not set
        if self.kind == "ducklake" and (self.catalog in unset or self.data_path in unset):
            raise ValueError("store=ducklake needs store.catalog (a PostgreSQL connection, or the environment "
                             "variable EXECFEED_DUCKLAKE_CATALOG) and store.data_path (or EXECFEED_DUCKLAKE_DATA)")
        return self


class SandboxSettings(_Strict):
    """conf/sandbox/default.yaml: the keyword arguments of engine.sandbox.Sandbox (their ranges are its own)."""

    workers: int = Field(2, ge=1)
    timeout_s: float = Field(2.0, gt=0)
    memory_mb: int = Field(512, ge=64)  # below this a worker's Python cannot start
    cpu_s: float | None = Field(None, gt=0)
    cache: Literal["readwrite", "readonly", "off"] = "readwrite"
    allowed_imports: list[str] | None = None


class RunConfig(BaseModel):
    """The root config. Experiment parameter blocks (e.g. `autoif:`) are extra top-level keys, read by stages
    through interpolations (`${autoif.score_threshold}`); `load` rejects block keys that nothing reads, and stages
    validate the values they receive."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    seed: int = 0
    cache_dir: str = ".cache"
    stages: dict[str, StageSpec]
    llm: dict[str, Any] = {}
    roles: dict[str, dict[str, Any]] = {}
    sandbox: dict[str, Any] = {}  # checked against SandboxSettings; kept as given, as stage fingerprints hash it
    executor: dict[str, Any] = {}  # checked against engine.executor.ExecutorConfig
    store: StoreConfig = StoreConfig()
    progress: bool = True  # every progress bar: stages', the sandbox's and each model role's
    check_endpoints: bool = True  # preflight: one GET /models per OpenAI-compatible endpoint before the first stage
    report: str | None = None  # "module:function" adding the experiment's own sections to summary.json


    @model_validator(mode="after")
    def _progress_governs_every_bar(self) -> RunConfig:
        if not self.progress:  # the model roles' bars are drawn by the LLM layer, from their own config
            self.llm = {**self.llm, "progress": False}
            self.roles = {role: {**cfg, "progress": False} for role, cfg in self.roles.items()}
        return self


def role_config(config: RunConfig, role: str) -> dict:
    """A role's model config: the `llm` group with the role's own keys merged over it."""
    return _deep_merge(config.llm, config.roles.get(role, {}))


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


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


def _schema_of(annotation: Any) -> Any:
    """The model or dict inside an optional or union annotation."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) is dict or (isinstance(arg, type) and issubclass(arg, BaseModel)):
                return arg
    return annotation


def _schema_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model of the mapping where `loc` (an error location ending in a key) points, if it is one."""
    schema: Any = model
    for part in loc[:-1]:
        schema = _schema_of(schema)
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            if part == schema.__name__:  # pydantic names the union member it tried
                continue
            if part not in schema.model_fields:
                return None
            schema = schema.model_fields[part].annotation
        elif typing.get_origin(schema) in (dict, list):
            schema = typing.get_args(schema)[-1]
        else:
            return None
    schema = _schema_of(schema)
    return schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None


def _nested_keys(schema: type[BaseModel]) -> dict[str, str]:
    """leaf -> dotted key, for the keys of the models one level down (`temperature` -> `sampling.temperature`)."""
    out: dict[str, str] = {}
    for name, info in schema.model_fields.items():
        inner = _schema_of(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out.update({leaf: f"{name}.{leaf}" for leaf in inner.model_fields})
    return out


def validation_error(err: ValidationError, prefix: str = "", model: type[BaseModel] | None = None) -> ConfigError:
    """The first error as a ConfigError at its dotted key; an unknown key gets the nearest known one from `model`."""
    first = err.errors()[0]
    key = _key_of(first["loc"])
    key = f"{prefix}.{key}" if prefix and key != "<root>" else (prefix or key)
    if first["type"] == "extra_forbidden":
        schema = _schema_at(model, first["loc"]) if model else None
        if schema is None:
            return ConfigError(key, "unknown key")
        hint = did_you_mean(str(first["loc"][-1]), schema.model_fields, _nested_keys(schema))
        return ConfigError(key, f"unknown key; {hint}")
    found = first.get("input")
    found_txt = "" if isinstance(found, dict) else f" (found {found!r})"
    message = first["msg"].removeprefix("Value error, ")  # a validator's own sentence, without pydantic's label
    return ConfigError(key, f"{message}{found_txt}")


def in_user_terms(err: ConfigError, raw: DictConfig | dict) -> ConfigError:
    """`err` at the key the user typed, when its key was interpolated from another (an experiment block's)."""
    typed = origin_of(raw, err.key) if isinstance(raw, DictConfig) else None
    return ConfigError(f"{typed} (used as {err.key})", err.message) if typed else err


def _check_every_key_is_read(raw: DictConfig) -> None:
    """Top-level keys outside the schema are experiment blocks, read only through interpolations: a key nothing
    reads would be silently ignored, so it is a mistake (usually a misspelt key added with `+`)."""
    refs = references(raw)
    fields = set(RunConfig.model_fields)
    for block in (str(k) for k in raw.keys() if str(k) not in fields):
        read = refs | set(aliases(PROJECT_ROOT / "conf" / "experiment" / f"{raw.get('name')}.yaml", block))
        for key, siblings in unread_keys(raw, block, read):
            known = siblings if "." in key else [*fields, *(str(k) for k in raw.keys() if str(k) != key)]
            why = "unknown key: no stage reads it" if "." in key else "unknown key"
            raise ConfigError(key, f"{why}; {did_you_mean(key.rpartition('.')[2], known)}")


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
    if isinstance(cfg, DictConfig):
        _check_every_key_is_read(cfg)
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as e:
        raise validation_error(e, model=RunConfig) from e
    try:
        SandboxSettings.model_validate(config.sandbox)
    except ValidationError as e:
        raise validation_error(e, "sandbox", SandboxSettings) from e
    return config
