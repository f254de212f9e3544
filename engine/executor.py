"""Executors: where the chunks ("shards") of a sharded Python stage run. `executor=local` (the default) or
`executor=ray` (conf/executor/).

A Python stage opts in with `shard: {input: NAME, size: N}`: its function may be called on consecutive chunks
of N rows of input NAME (rows in the engine's order, by (iteration, id)), the other inputs whole, and the
outputs concatenated in chunk order. Both executors cut the same chunks and seed each chunk's `ctx.rng` from
(run seed, stage, iteration, shard index), so a stage gives the same rows, ids, fingerprints and lineage
whichever executor ran it and on however many workers. A map or filter stage's `max_errors` counts per shard.

- local: the shards run one after another in the run's process, with the run's sandbox and model clients.
- ray: the shards run on a pool of Ray actors, each with its own sandbox workers (`cpus_per_actor` of them)
  and its own model clients; the response and sandbox caches and the endpoints' shared limits live under
  `cache_dir`, which the actors share (a shared filesystem on a cluster). An actor that dies is restarted and
  its shard retried (`max_retries`); the model replies it had already received are in the response cache, so
  only requests in flight at the moment of death are paid twice. Each shard's ledger rows, simulated truth and
  sandbox counts travel back with its rows and are written by the run as with the local executor.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.calling import call_stage
from engine.config import PROJECT_ROOT, ConfigError, RunConfig, validation_error
from engine.context import Context, StageError
from engine.graph import Graph, Stage, resolve_path, sha256
from engine.ledger_journal import JournaledLedger, leftover_rows

if TYPE_CHECKING:
    from engine.run_env import RunEnv

log = logging.getLogger("engine")


class ExecutorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["local", "ray"] = "local"
    address: str | None = None  # ray: "auto", "ray://head:10001", ...; null starts a local Ray instance
    num_cpus: int | None = Field(None, ge=1)  # ray, local instance only: CPUs it may use (null: all)
    cpus_per_actor: int = Field(1, ge=1)  # ray: CPUs (and sandbox workers) per actor
    actors: int | None = Field(None, ge=1)  # ray: actors in the pool; null: the cluster's CPUs / cpus_per_actor
    max_retries: int = Field(3, ge=0)  # ray: restarts of a dead actor, and retries of the shard it was running


def load_executor_config(config: RunConfig) -> ExecutorConfig:
    try:
        return ExecutorConfig.model_validate(getattr(config, "executor", None) or {})
    except ValidationError as e:
        raise validation_error(e, "executor", ExecutorConfig) from e


def check_shards(graph: Graph) -> None:
    """Each `shard` names an input of its stage, on a Python stage: found before any work is done."""
    for stage in graph.stages.values():
        shard = stage.spec.shard
        if shard is None:
            continue
        if stage.kind not in ("fn", "map", "filter"):
            raise ConfigError(f"{stage.key}.shard", f"only Python stages (fn, map, filter) shard; this is {stage.kind}")
        aliases = [ref.alias for ref in stage.inputs]
        if shard.input not in aliases:
            raise ConfigError(f"{stage.key}.shard.input", f"{shard.input!r} is not an input of this stage ({aliases})")


def shards(rows: list[dict], size: int) -> list[list[dict]]:
    """Consecutive chunks of `size` rows; an empty input is one empty shard, so the function is still called."""
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]


def shard_rng(seed: int, stage: str, iteration: int | None, index: int) -> random.Random:
    return random.Random(sha256(f"{seed}:{stage}:{iteration}:shard{index}"))


def make_executor(config: RunConfig) -> LocalExecutor | RayExecutor:
    cfg = load_executor_config(config)
    return LocalExecutor() if cfg.kind == "local" else RayExecutor(cfg)


@dataclass
class Sharded:
    """What a sharded stage slice gave: its rows in shard order, and what shards that ran elsewhere spent (model
    calls, simulated truth, sandbox counts), for the run to add to its own account."""

    output: list
    ledger: list[dict] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)
    sandbox: dict[str, int] = field(default_factory=dict)


class LocalExecutor:
    """Shards in the run's own process, with the run's model clients and sandbox (their account is the run's)."""

    def call_sharded(self, stage: Stage, iteration: int | None, inputs: dict[str, list[dict]], ctx: Context,
                     env: RunEnv) -> Sharded:
        name = stage.spec.shard.input
        output: list = []
        for index, chunk in enumerate(shards(inputs[name], stage.spec.shard.size)):
            ctx.rng = shard_rng(ctx.seed, stage.name, iteration, index)
            output.extend(call_stage(stage, {**inputs, name: chunk}, ctx))
        return Sharded(output)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------- ray


@dataclass(frozen=True)
class ShardJob:
    """What a Ray actor needs to run any shard of one stage slice: sent once per slice, shared by its shards."""

    stage: Stage
    iteration: int | None
    seed: int
    run_dir: Path
    cache_dir: Path
    role_configs: dict[str, dict]
    sandbox_settings: dict[str, Any]


class ShardWorker:
    """A Ray actor: runs shards with its own sandbox (kept across shards) and fresh model clients per shard."""

    def __init__(self, sandbox_workers: int):
        self.sandbox_workers = sandbox_workers
        self.sandbox = None

    def pid(self) -> int:
        return os.getpid()

    def _get_sandbox(self, job: ShardJob):
        if self.sandbox is None:
            from engine.sandbox import Sandbox

            settings = {**job.sandbox_settings, "workers": self.sandbox_workers}
            cache = settings.get("cache", "readwrite")
            self.sandbox = Sandbox(**settings, cache_path=None if cache == "off" else job.cache_dir / "sandbox.sqlite")
        return self.sandbox

    def run(self, job: ShardJob, index: int, chunk: list[dict], others: dict[str, list[dict]]) -> dict:
        from engine.llm import make_llm
        # journaled like the driver's ledger: a retry of a shard whose actor was killed returns the calls the
        # dead actor paid for too (run_dir is on the shared filesystem)
        slice_name = job.stage.name if job.iteration is None else f"{job.stage.name}.{job.iteration}"
        journal = job.run_dir / f"llm_calls.journal.{slice_name}.{index}.jsonl"
        ledger = JournaledLedger(journal)
        truth: list[dict] = []

        def llm_for(stage: str, role: str):
            return make_llm(job.role_configs[role], stage=stage, role=role, cache_dir=job.cache_dir,
                            ledger=ledger, truth=truth)

        stage = job.stage
        ctx = Context(stage.name, job.iteration, job.seed, job.run_dir, PROJECT_ROOT, list(stage.spec.llm),
                      stage.spec.sandbox, False, llm_for, lambda: self._get_sandbox(job))
        ctx.rng = shard_rng(job.seed, stage.name, job.iteration, index)
        before = dict(self.sandbox.stats) if self.sandbox is not None else {}
        result: dict[str, Any] = {"output": None, "error": None}
        try:
            result["output"] = call_stage(stage, {**others, stage.spec.shard.input: chunk}, ctx)
        except StageError as e:  # the ledger of a failed shard is still the run's: paid calls are accounted
            result["error"] = str(e).split("failed: ", 1)[-1]
        stats = self.sandbox.stats if self.sandbox is not None else {}
        result["sandbox"] = {k: v - before.get(k, 0) for k, v in stats.items() if isinstance(v, (int, float))}
        ledger.close()
        paid = leftover_rows(journal)  # this attempt's rows and those of any killed before it
        journal.unlink()
        return {**result, "ledger": paid, "truth": truth}

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


class ShardsFailed(StageError):
    """A shard failed; `done` holds what all shards spent, for the run's account."""

    def __init__(self, stage: str, message: str, done: Sharded):
        super().__init__(stage, message)
        self.done = done


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise ConfigError("executor.kind", "executor=ray needs Ray: pip install 'execfeed[scale]' (or ray)") from e
    return ray


class RayExecutor:
    def __init__(self, cfg: ExecutorConfig):
        ray = _import_ray()
        self.cfg = cfg
        self._ray = ray
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            # local workers import the project (stages, engine) like the run does
            os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))
                                                       if p)
            ray.init(address=cfg.address, num_cpus=cfg.num_cpus if cfg.address is None else None,
                     include_dashboard=False, log_to_driver=False)
        self._actors: list = []

    def _pool(self):
        if not self._actors:
            ray = self._ray
            n = self.cfg.actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // self.cfg.cpus_per_actor)
            actor = ray.remote(num_cpus=self.cfg.cpus_per_actor, max_restarts=self.cfg.max_retries,
                               max_task_retries=self.cfg.max_retries)(ShardWorker)
            self._actors = [actor.remote(self.cfg.cpus_per_actor) for _ in range(n)]
            log.info("ray: %d shard actors of %d CPUs each", n, self.cfg.cpus_per_actor)
        return self._actors

    def call_sharded(self, stage: Stage, iteration: int | None, inputs: dict[str, list[dict]], ctx: Context,
                     env: RunEnv) -> Sharded:
        from ray.util import ActorPool

        ray = self._ray
        name = stage.spec.shard.input
        job = ShardJob(stage, iteration, env.config.seed, env.run_dir, resolve_path(env.config.cache_dir),
                       {role: env.role_config(role) for role in stage.spec.llm}, dict(env.config.sandbox))
        job_ref = ray.put(job)
        others_ref = ray.put({k: v for k, v in inputs.items() if k != name})
        chunks = shards(inputs[name], stage.spec.shard.size)
        pool = ActorPool(self._pool())
        results = pool.map(lambda actor, item: actor.run.remote(job_ref, item[0], item[1], others_ref),
                           list(enumerate(chunks)))
        done = Sharded([])
        error = None
        for result in ctx.progress(results, total=len(chunks), desc=f"{stage.name} shards"):
            done.ledger.extend(result["ledger"])
            done.truth.extend(result["truth"])
            for k, v in result["sandbox"].items():
                done.sandbox[k] = done.sandbox.get(k, 0) + v
            if result["error"] is not None:
                error = error or result["error"]
            elif error is None:
                done.output.extend(result["output"])
        if error is not None:  # the shards' account is the run's all the same: paid calls stay accounted
            raise ShardsFailed(stage.name, error, done)
        return done

    def actor_pids(self) -> list[int]:
        return self._ray.get([a.pid.remote() for a in self._pool()])

    def close(self) -> None:
        ray = self._ray
        if self._actors:
            ray.get([a.close.remote() for a in self._actors])
            for a in self._actors:
                ray.kill(a)
            self._actors = []
        if self._started_ray:
            ray.shutdown()
