"""`python -m engine --check +experiment=NAME ...`: the preflight, then the resolved graph as the run would walk it
(each stage's kind, what runs it, its inputs, roles, sandbox, and whether it would be reused or computed), with no
stage run and nothing paid."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from engine.config import ConfigError, RunConfig
from engine.fingerprint import stage_fingerprint
from engine.graph import Graph, Loop, Stage
from engine.preflight import check, make_executor_checked, open_stage_store_checked
from engine.preflight_roles import roles_used
from engine.run_env import role_config
from engine.store import META_TABLE, RunDB

COMPUTED = "computed"


def check_command(cfg: DictConfig, run_dir: Path) -> int:
    """Exit status 0 and the graph on stdout, or 1 and the first mistake on stderr."""
    try:
        config, graph = check(cfg)
        if config.executor.get("kind") == "ray" and config.executor.get("address"):  # a cluster named: it answers
            make_executor_checked(config).close()
        reuse = planned_reuse(config, graph, run_dir)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    print(describe(config, graph, reuse))
    return 0


@dataclass
class _Plan:
    """What stage_fingerprint reads of a RunEnv, for fingerprints taken before anything runs."""

    config: RunConfig
    graph: Graph
    fingerprints: dict[tuple[str, int | None], str] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)  # left empty: a loop's length is known when it ran

    def role_config(self, role: str) -> dict:
        return role_config(self.config, role)


def planned_reuse(config: RunConfig, graph: Graph, run_dir: Path) -> dict[tuple[str, int | None], str]:
    """(stage, iteration) -> where its slice would come from: this run directory, the stage store, or computed.
    A loop's iterations are followed while every stage of one is found; stages after a loop are left out, as
    their fingerprints depend on how many iterations it runs."""
    plan, found = _Plan(config, graph), {}
    store = open_stage_store_checked(config)
    recorded = _recorded(run_dir)

    def place(stage: Stage, iteration: int | None) -> str | None:
        try:
            fingerprint = stage_fingerprint(stage, iteration, plan)
        except KeyError:  # an input read after a loop
            return None
        plan.fingerprints[(stage.name, iteration)] = fingerprint
        if recorded.get((stage.name, iteration)) == fingerprint:
            found[(stage.name, iteration)] = "reused (this run directory)"
        elif stage.spec.store and store is not None and store.get(fingerprint) is not None:
            found[(stage.name, iteration)] = "reused (stage store)"
        else:
            found[(stage.name, iteration)] = COMPUTED
        return found[(stage.name, iteration)]

    for node in graph.order:
        if not isinstance(node, Loop):
            place(node, None)
            continue
        for i in range(node.spec.max_iterations):
            places = [place(stage, i) for stage in node.stages]
            if COMPUTED in places or None in places:
                break
    return found


def _recorded(run_dir: Path) -> dict[tuple[str, int | None], str]:
    """The slices an earlier run in this directory finished: (stage, iteration) -> fingerprint."""
    if not (run_dir / "run.duckdb").is_file():
        return {}
    with RunDB.connect_readonly(run_dir / "run.duckdb") as con:
        if META_TABLE not in RunDB.tables(con):
            return {}
        rows = con.execute(f"SELECT stage, iteration, fingerprint FROM {META_TABLE}").fetchall()
    return {(stage, iteration): fingerprint for stage, iteration, fingerprint in rows}


def describe(config: RunConfig, graph: Graph, reuse: dict[tuple[str, int | None], str]) -> str:
    """The resolved graph in execution order: each stage's kind, what runs it, its inputs, roles and sandbox, and
    whether it would be reused."""
    lines = [f"{config.name}: {len(graph.stages)} stages, config and data checked"]

    def line(stage: Stage, indent: str, iteration: int | None) -> str:
        inputs = ", ".join(ref.alias if ref.alias == ref.stage else f"{ref.alias}={ref.stage}" for ref in stage.inputs)
        uses = [*(f"llm:{role}" for role in stage.spec.llm), *(["sandbox"] if stage.spec.sandbox else [])]
        where = reuse.get((stage.name, iteration), "computed or reused: decided when the loop before it has run")
        return (f"{indent}{stage.name}  {stage.kind} {stage.spec.target}" + (f"  <- {inputs}" if inputs else "")
                + (f"  [{', '.join(uses)}]" if uses else "") + f"  => {where}")

    for node in graph.order:
        if isinstance(node, Loop):
            stored = sum(1 for i in range(node.spec.max_iterations)
                         if all(reuse.get((s.name, i), COMPUTED) != COMPUTED for s in node.stages))
            lines.append(f"  {node.name}  loop, at most {node.spec.max_iterations} iterations"
                         + (f", the first {stored} reused" if stored else "") + "; iteration 0:")
            lines.extend(line(stage, "    ", 0) for stage in node.stages)
        else:
            lines.append(line(node, "  ", None))
    for role in roles_used(graph):
        cfg = role_config(config, role)
        lines.append(f"  role {role}: {cfg.get('backend', 'sim')} {cfg.get('model', '')}"
                     + (f" at {cfg['base_url']}" if cfg.get("base_url") else ""))
    reused = sum(1 for where in reuse.values() if where != COMPUTED)
    lines.append(f"would reuse {reused} and compute {len(reuse) - reused} of the {len(reuse)} slices known before "
                 "the run; nothing was run")
    return "\n".join(lines)
