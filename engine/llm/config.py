"""The schema of a model role's config (`conf/llm/*.yaml`, merged with `roles.<role>`): one flat schema
shared by every backend, so switching `llm=sim` to `llm=openai` changes values, never keys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.llm.types import LLMConfigError


class Sampling(BaseModel):
    """Defaults for the sampling fields a Request leaves as None."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(0.7, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(512, ge=1)


class TokenPrice(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class Price(TokenPrice):
    """A model's online price, and its `batch` price through the Batch API (llm.mode: batch); without a batch
    entry, half the online price (OpenAI's batch price, for every model)."""

    batch: TokenPrice | None = None

    def for_mode(self, batch: bool) -> TokenPrice:
        if not batch:
            return self
        return self.batch or TokenPrice(input=self.input / 2, output=self.output / 2)


class BatchSettings(BaseModel):
    """llm.mode: batch (engine.llm.batch): the Batch API's window and limits, and how often it is asked."""

    model_config = ConfigDict(extra="forbid")
    completion_window: str = "24h"  # the only window OpenAI offers today
    max_requests: int = Field(50_000, ge=1)  # per batch (OpenAI: 50,000)
    max_bytes: int = Field(200_000_000, ge=1_000)  # per input file (OpenAI: 200 MB)
    poll_s: float = Field(30, gt=0)  # between looks at an open batch


class SimSettings(BaseModel):
    """The simulated teacher. Every other key is an experiment's block of error rates
    (`sim.<experiment>.<rate>`), handed to that experiment's handlers as `settings`."""

    model_config = ConfigDict(extra="allow")
    seed: int = 0
    latency_ms: float = Field(0, ge=0)

    def experiment(self, name: str) -> dict[str, Any]:
        return dict((self.model_extra or {}).get(name) or {})

    @model_validator(mode="after")
    def _experiment_blocks_are_mappings(self) -> SimSettings:
        for name, block in (self.model_extra or {}).items():
            if not isinstance(block, dict):
                raise ValueError(f"sim.{name} must be a mapping of an experiment's error rates, got {block!r}")
        return self


class HFSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device: str = "cpu"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "float32"
    batch_size: int = Field(8, ge=1)


class ReplaySettings(BaseModel):
    """Recorded generations (engine.llm.replay_backend): task tag -> JSONL file, and how prompts find records."""

    model_config = ConfigDict(extra="forbid")
    files: dict[str, str] = {}
    match: Literal["prompt", "signature"] = "prompt"


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["sim", "openai", "hf", "replay"] = "sim"
    model: str = "sim-teacher"  # a model name (openai), a local path (hf) or a label (sim)
    # openai: any OpenAI-compatible endpoint; None means OPENAI_BASE_URL, else api.openai.com (resolved once for
    # both transports: engine.llm.openai_backend.endpoint_urls); a list is a fleet (engine.llm.fleet), with
    # max_in_flight, rpm and tpm holding per endpoint
    base_url: str | list[str] | None = None
    api_key: str | None = None  # None: the OPENAI_API_KEY environment variable
    # openai: how chat completions are sent (engine.llm.wire): a lean aiohttp client, near a bare client's CPU
    # cost per request, or the official openai client
    transport: Literal["aiohttp", "sdk"] = "aiohttp"
    max_in_flight: int = Field(16, ge=1)  # shared by every process using the same endpoint
    rpm: int | None = Field(None, ge=1)  # requests per minute, shared like max_in_flight
    tpm: int | None = Field(None, ge=1)  # tokens per minute (prompt estimate + max_tokens)
    timeout_s: float = Field(60, gt=0)  # per attempt, whole request
    max_retries: int = Field(4, ge=0)  # extra attempts after a transient failure
    backoff_s: float = Field(0.5, ge=0)  # first backoff; doubles per attempt, with full jitter
    backoff_max_s: float = Field(30, ge=0)
    # the endpoint is taken as down, and the run stops, when the first `stop_after_failures` requests of a stage
    # all fail (0: never), or when more than `max_failure_rate` of a stage's batch fails (batches of at least
    # stop_after_failures requests)
    stop_after_failures: int = Field(20, ge=0)
    max_failure_rate: float = Field(0.5, gt=0, le=1)
    # the endpoint's identity in the response cache key: None is the backend with its normalised base_url;
    # a fleet or a mirror serving one checkpoint under several URLs declares one shared name here
    endpoint_id: str | None = None
    cache: Literal["readwrite", "readonly", "off"] = "readwrite"
    # online: a call per request; batch: the requests a stage sends go through the provider's Batch API (openai
    # backend, one endpoint), for the batch price, answered within batch.completion_window
    mode: Literal["online", "batch"] = "online"
    batch: BatchSettings = BatchSettings()
    # None: the SQLite file under cache_dir; a PostgreSQL conninfo or URL: the cache shared by machines that share
    # no filesystem (engine.llm.pg_cache); ${oc.env:EXECFEED_LLM_CACHE_DB,null} in conf/llm reads it from the env
    cache_db: str | None = None
    progress: bool = True
    prices: dict[str, Price] = {}
    sampling: Sampling = Sampling()
    sim: SimSettings = SimSettings()
    hf: HFSettings = HFSettings()
    replay: ReplaySettings = ReplaySettings()

    @field_validator("base_url")
    @classmethod
    def _fleet_is_distinct_endpoints(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ValueError("a fleet's base_url is a non-empty list of distinct endpoints")
        return value

    @model_validator(mode="after")
    def _batch_needs_one_openai_endpoint(self) -> LLMConfig:
        if self.mode == "batch" and (self.backend != "openai" or isinstance(self.base_url, list)):
            where = "a fleet" if isinstance(self.base_url, list) else f"backend {self.backend!r}"
            raise ValueError(f"mode: batch needs backend: openai with one base_url (the Batch API), found {where}")
        return self

    @field_validator("model")
    @classmethod
    def _model_is_set(cls, value: str) -> str:
        if value in ("", "???"):
            raise ValueError("set the model: a name (openai), a local directory (hf) or a label (sim)")
        return value


def load_config(role_cfg: Any, *, where: str = "llm") -> LLMConfig:
    """Validate a role's config (a dict or an OmegaConf node); errors name every offending key."""
    if not isinstance(role_cfg, dict):
        from omegaconf import OmegaConf

        role_cfg = OmegaConf.to_container(role_cfg, resolve=True)
    try:
        return LLMConfig.model_validate(role_cfg)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            key = ".".join(str(part) for part in (where, *e["loc"]))
            problems.append(f"{key}: {e['msg']} (got {e.get('input')!r})")
        raise LLMConfigError("invalid model config:\n  " + "\n  ".join(problems)) from None
