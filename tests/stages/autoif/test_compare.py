"""The sweep comparison reads each job's summary and overrides into one table and a PNG."""

from __future__ import annotations

import json

from reports.autoif.compare import main
from reports.autoif.remedies import pooled_rows, remedy_jobs


def test_comparison_lists_each_job_with_its_overrides_counts_and_quality(tmp_path, capsys):
    for job, threshold in (("0", 7), ("1", 8)):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(
            f"- +experiment=autoif\n- autoif.score_threshold={threshold}\n")
        stages = {name: {"rows_out": 10 - threshold} for name in ("constraints", "responses_scored")}
        quality = {"verify": {"bad_removed": 0.9, "good_kept": 0.95},
                   "exported": {"shared_misreading": {"precision": 0.8125, "n_exported": 48},
                                "independent": {"compliant_exported": 731}}} if job == "0" else None
        (tmp_path / job / "summary.json").write_text(json.dumps(
            {"status": "ok", "stages": stages, "filter_quality": quality}))
    assert main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "autoif.score_threshold=7" in lines[1] and "0.9" in lines[1] and "0.8125" in lines[1]
    assert " 48 " in lines[1] and " 731 " in lines[1]
    assert "exported.shared_misreading.precision" in lines[0]
    assert "exported.independent.compliant_exported" in lines[0]
    assert "autoif.score_threshold=8" in lines[2] and " 2 " in f" {lines[2]} "
    assert (tmp_path / "comparison.png").is_file()


def _job(root, name: str, overrides: list[str], exported: dict) -> None:
    (root / name / ".hydra").mkdir(parents=True)
    (root / name / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in ["+experiment=autoif",
                                                                                       *overrides]))
    (root / name / "summary.json").write_text(json.dumps(
        {"status": "ok", "stages": {}, "filter_quality": {"exported": exported}}))


def _exported(n_all: int, right_all: int, n_shared: int, right_shared: int, independent: int) -> dict:
    return {"all": {"n_exported": n_all, "compliant_exported": right_all},
            "shared_misreading": {"n_exported": n_shared, "compliant_exported": right_shared},
            "generic": {"n_exported": 0, "compliant_exported": 0},
            "independent": {"compliant_exported": independent}}


def test_remedies_pool_their_seeds_rows_before_the_ratio_and_keep_a_share_of_the_baseline_on_common_seeds(tmp_path):
    """Seed 0 has 10 misread rows (5 right), seed 1 has 90 (90 right): pooled 95 of 100, not the mean 0.75; the
    baseline ran seed 2 too, which the remedy's kept share leaves out."""
    _job(tmp_path, "base_s0", ["autoif.probes_per_constraint=0", "llm.sim.seed=0"], _exported(100, 80, 20, 10, 70))
    _job(tmp_path, "base_s1", ["autoif.probes_per_constraint=0", "llm.sim.seed=1"], _exported(100, 90, 20, 15, 80))
    _job(tmp_path, "base_s2", ["autoif.probes_per_constraint=0", "llm.sim.seed=2"], _exported(100, 90, 20, 15, 999))
    _job(tmp_path, "probed_s0", ["llm.sim.seed=0"], _exported(50, 45, 10, 5, 63))
    _job(tmp_path, "probed_s1", ["llm.sim.seed=1"], _exported(150, 150, 90, 90, 72))
    rows = pooled_rows(remedy_jobs(tmp_path), baseline="probes_per_constraint=0")
    by_remedy = {r["remedy"]: r for r in rows}
    assert set(by_remedy) == {"probes_per_constraint=0", "(defaults)"}
    probed = by_remedy["(defaults)"]
    assert probed["seeds"] == "0,1"
    assert probed["precision shared misreading"] == "0.950 (100)"
    assert probed["precision all"] == "0.975 (200)"
    assert probed["precision generic"] == "none exported"
    assert probed["kept (independent)"] == "135 (0.90)"  # (63 + 72) / (70 + 80)
    assert by_remedy["probes_per_constraint=0"]["kept (independent)"] == "1149 (1.00)"


def test_comparison_prints_the_pooled_table_after_the_jobs(tmp_path, capsys):
    _job(tmp_path, "a", ["llm.sim.seed=0"], _exported(10, 9, 2, 1, 5))
    _job(tmp_path, "b", ["llm.sim.seed=1"], _exported(10, 10, 2, 2, 5))
    assert main([str(tmp_path), "--baseline", "nothing matches"]) == 0
    out = capsys.readouterr().out
    pooled = out.split("per remedy, seeds pooled:\n")[1].splitlines()
    assert pooled[1].startswith("(defaults)") and "0.950 (20)" in pooled[1] and "0.750 (4)" in pooled[1]
    assert "kept (independent)" not in pooled[0]  # no job matched the baseline
