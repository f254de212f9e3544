"""Compare the jobs of an AutoIF sweep: `python -m reports.autoif.compare SWEEP_DIR [--baseline TEXT]` prints one
line per job (its overrides, final counts and filter quality), then one line per remedy with its seeds pooled
(reports/autoif/remedies.py), and writes SWEEP_DIR/comparison.png.

Filter quality needs the sim ground truth of a job's model stages; a job that reused them from an earlier job
shows it as "-" (the stage store does not carry sim_truth)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from reports.autoif.remedies import overrides_of, pooled_rows, remedy_jobs

COUNTS = ("constraints", "constraints_aligned", "responses", "responses_verified", "responses_scored")
QUALITY = ("cross_validate_verifiers", "nli", "probes", "verify", "score")
# exported rows: precision overall and on each kind of constraint the sim errs on (with the rows it is over), and
# truly compliant rows exported: overall, and on constraints with independent errors only (what a remedy against a
# correlated error must not cost)
EXPORTED = (("all", "precision"), ("shared_misreading", "precision"), ("shared_misreading", "n_exported"),
            ("generic", "precision"), ("all", "compliant_exported"), ("independent", "compliant_exported"),
            ("dpo", "right"))


def job_rows(sweep_dir: Path) -> list[dict]:
    rows = []
    for summary_path in sorted(sweep_dir.glob("*/summary.json"), key=lambda p: p.parent.name):
        summary = json.loads(summary_path.read_text())
        overrides = overrides_of(summary_path.parent)
        quality = summary.get("filter_quality") or {}
        rows.append({"job": summary_path.parent.name, "overrides": " ".join(overrides) or "-",
                     "status": summary["status"],
                     **{c: summary["stages"].get(c, {}).get("rows_out") for c in COUNTS},
                     **{f"{q}.bad_removed": (quality.get(q) or {}).get("bad_removed") for q in QUALITY},
                     **{f"{q}.good_kept": (quality.get(q) or {}).get("good_kept") for q in QUALITY},
                     **{f"exported.{kind}.{figure}": ((quality.get("exported") or {}).get(kind) or {}).get(figure)
                        for kind, figure in EXPORTED}})
    return rows


def render_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    cells = [[("-" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def short_labels(overrides: list[str]) -> list[str]:
    """Each job's overrides without those every job shares, one per line: what tells the jobs apart."""
    split = [o.split() for o in overrides]
    shared = set.intersection(*(set(s) for s in split)) if len(split) > 1 else set()
    return ["\n".join(o.removeprefix("autoif.") for o in s if o not in shared) or "(defaults)" for s in split]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = short_labels([r["overrides"] for r in rows])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.5 * len(rows) + 2.5), sharey=True)
    left.barh(labels, [r["responses_scored"] or 0 for r in rows], color="#3b7dd8")
    left.set_title("final responses per job")
    for i, q in enumerate(QUALITY):
        known = [(r[f"{q}.bad_removed"], y) for y, r in enumerate(rows) if r[f"{q}.bad_removed"] is not None]
        if known:
            right.scatter([x for x, _ in known], [y for _, y in known], label=f"{q} bad removed", marker="ox^sD"[i])
    right.set_xlim(0, 1.05)
    right.set_title("filter quality (share of bad items removed)")
    right.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    baseline = None
    if len(args) == 3 and args[1] == "--baseline":
        args, baseline = args[:1], args[2]
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m reports.autoif.compare SWEEP_DIR [--baseline TEXT]", file=sys.stderr)
        return 2
    sweep_dir = Path(args[0])
    rows = job_rows(sweep_dir)
    if not rows:
        print(f"no */summary.json under {sweep_dir}", file=sys.stderr)
        return 1
    print(render_table(rows))
    if pooled := pooled_rows(remedy_jobs(sweep_dir), baseline):
        print("\nper remedy, seeds pooled:")
        print(render_table(pooled))
    plot(rows, sweep_dir / "comparison.png")
    print(f"plot: {sweep_dir / 'comparison.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
