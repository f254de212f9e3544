"""A sweep's jobs pooled by remedy: the jobs whose overrides differ only in the sim seed are one remedy, and their
exported rows are summed before any ratio is taken (a few rows move one seed's precision, so a per-seed mean
would weigh a seed with 40 rows as one with 400). `python -m reports.autoif.compare SWEEP_DIR --baseline TEXT`
prints this table after the per-job one; the job named by TEXT (a substring of its overrides, e.g.
`probes_per_constraint=0`) is the baseline whose truly compliant rows on sound constraints the others keep a share
of, over the seeds both ran."""

from __future__ import annotations

import json
from pathlib import Path

SEED = "llm.sim.seed="
# (label, kind in filter_quality.exported): precision is pooled over these kinds' rows
KINDS = (("all", "all"), ("shared misreading", "shared_misreading"), ("generic", "generic"))


def overrides_of(run_dir: Path) -> list[str]:
    """A job's command-line overrides, the experiment itself left out."""
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    return [line.removeprefix("- ").strip() for line in path.read_text().splitlines()
            if line.startswith("- ") and "experiment=" not in line]


def remedy_jobs(sweep_dir: Path) -> dict[str, dict[str, dict]]:
    """remedy (overrides less the seed) -> seed -> the job's exported figures; jobs without them are left out."""
    out: dict[str, dict[str, dict]] = {}
    for summary_path in sorted(sweep_dir.glob("*/summary.json"), key=lambda p: p.parent.name):
        exported = (json.loads(summary_path.read_text()).get("filter_quality") or {}).get("exported")
        if not exported:
            continue
        overrides = overrides_of(summary_path.parent)
        seed = next((o.removeprefix(SEED) for o in overrides if o.startswith(SEED)), "0")
        remedy = " ".join(o for o in overrides if not o.startswith(SEED)) or "(defaults)"
        out.setdefault(remedy, {})[seed] = exported
    return out


def _pooled_precision(runs: list[dict], kind: str) -> str:
    rows = sum((run.get(kind) or {}).get("n_exported") or 0 for run in runs)
    right = sum((run.get(kind) or {}).get("compliant_exported") or 0 for run in runs)
    return f"{right / rows:.3f} ({rows})" if rows else "none exported"


def _compliant(runs: list[dict], kind: str) -> int:
    return sum((run.get(kind) or {}).get("compliant_exported") or 0 for run in runs)


def pooled_rows(jobs: dict[str, dict[str, dict]], baseline: str | None = None) -> list[dict]:
    """One row per remedy: precision of exported rows pooled over its seeds (with the rows it is over), truly
    compliant rows exported, and the share of the baseline's truly compliant rows on constraints with
    independent errors only that it keeps (what a remedy against a correlated error must not cost)."""
    base = next((seeds for remedy, seeds in jobs.items() if baseline and baseline in remedy), None)
    shared = set.intersection(*(set(r.split()) for r in jobs)) if len(jobs) > 1 else set()
    rows = []
    for remedy, seeds in jobs.items():
        runs = list(seeds.values())
        row = {"remedy": " ".join(o.removeprefix("autoif.") for o in remedy.split() if o not in shared)
               or "(defaults)", "seeds": ",".join(sorted(seeds))}
        row |= {f"precision {label}": _pooled_precision(runs, kind) for label, kind in KINDS}
        row["compliant exported"] = _compliant(runs, "all")
        if base is not None:
            common = sorted(set(seeds) & set(base))
            mine = sum(_compliant([seeds[s]], "independent") for s in common)
            theirs = sum(_compliant([base[s]], "independent") for s in common)
            row["kept (independent)"] = f"{mine} ({mine / theirs:.2f})" if theirs else "-"
        rows.append(row)
    return rows
