"""The principle_examples section of summary.json (each version's validation pass rate with its 95% interval, the
best version by validation pass rate and its test pass rate, the only test figure measured, how often the checker
agreed with the sim's intended letters) and plots/pass_rate_per_version.png."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from engine.query_rows import query_rows


def plot_pass_rates(versions: list[dict], tested: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [v["version"] for v in versions]
    best = next(v for v in versions if v["is_best"])
    # validation for every version (it chooses); test for the chosen version only (it is measured once)
    on_test = [tested] if tested["test_n"] else []
    for split, shown, style, shift in (("validation", versions, "o-", -0.05), ("test", on_test, "s", 0.05)):
        rates = [v[f"{split}_pass_rate"] for v in shown]
        errors = [[r - v[f"{split}_low"] for r, v in zip(rates, shown, strict=True)],
                  [v[f"{split}_high"] - r for r, v in zip(rates, shown, strict=True)]]
        ax.errorbar([v["version"] + shift for v in shown], rates, yerr=errors, fmt=style, capsize=3,
                    label=f"{split} (95% CI)")
    ax.axvline(best["version"], color="grey", linestyle=":", label=f"best by validation: v{best['version']}")
    ax.set_xticks(xs, [f"v{x}\n{v['examples']} ex." for x, v in zip(xs, versions, strict=True)])
    ax.set_ylim(0, 1)
    ax.set_ylabel("rewrites that follow the principle")
    ax.set_title("Pass rate per library version")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def checker_agreement(con: duckdb.DuckDBPyConnection) -> dict | None:
    """On sim runs: the share of rewrites whose letters by the checker equal the letters the sim meant to write
    (it hides traps such as 3.5, e.g., Dr., ellipses and markdown in its sentences)."""
    # information_schema, not duckdb_tables(): a stage reused from the stage store is a view
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    if "sim_truth" not in tables:
        return None
    pairs = con.execute("""
        select e.letters, t.truth from evaluation e join sim_truth t on t.key = e.llm_key
        where t.task = 'principle_examples.rewrite'
    """).fetchall()
    meant = [(letters, json.loads(truth).get("letters")) for letters, truth in pairs]
    meant = [(seen, want) for seen, want in meant if want is not None]
    if not meant:
        return None
    return {"rewrites": len(meant), "agree": round(sum(a == b for a, b in meant) / len(meant), 4)}


def report(con: duckdb.DuckDBPyConnection, run_dir: Path) -> dict:
    versions = query_rows(con, "select * from versions_ranked order by version")
    [best] = query_rows(con, "select * from chosen_version_test")
    plot_pass_rates(versions, best, run_dir / "plots" / "pass_rate_per_version.png")
    keys = ("version", "parent_version", "examples", "examples_added", "validation_pass_rate", "validation_low",
            "validation_high", "is_best")
    return {"principle_examples": {
        "versions": [{k: v[k] for k in keys} for v in versions],
        "best_version": best["version"],
        "chosen_by": "validation_pass_rate",
        "best_validation_pass_rate": best["validation_pass_rate"],
        "best_test_n": best["test_n"],
        "best_test_pass_rate": best["test_pass_rate"],
        "best_test_interval": [best["test_low"], best["test_high"]],
        "checker_agreement": checker_agreement(con),
    }}
