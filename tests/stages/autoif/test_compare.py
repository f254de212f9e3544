"""The sweep comparison reads each job's summary and overrides into one table and a PNG."""

from __future__ import annotations

import json

from reports.autoif.compare import main


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
