"""Files a stage writes with ctx.output_path are products of the run: a rerun that reuses the stage, in a fresh
directory too, writes the same bytes; a stage that fails leaves no file."""

from __future__ import annotations

import pytest

from engine.context import Context, StageError
from engine.runner import run

F = "tests.engine.fixture_stages"


def exporting(make_config, numbers_file):
    return make_config({"numbers": {"source": str(numbers_file)},
                        "exported": {"fn": f"{F}:exported", "inputs": ["numbers"]}})


def test_a_stage_reused_in_a_fresh_directory_writes_its_files_there_too(make_config, numbers_file, tmp_path):
    cfg = exporting(make_config, numbers_file)
    run(cfg, tmp_path / "a")
    written = (tmp_path / "a" / "exports" / "numbers.jsonl").read_bytes()
    assert written.count(b"\n") == 10
    assert not (tmp_path / "a" / ".stage_files").exists()  # the staging folder is gone once the file is taken
    again = run(cfg, tmp_path / "b")
    assert again["stages"]["exported"]["reused"]
    assert (tmp_path / "b" / "exports" / "numbers.jsonl").read_bytes() == written


def test_a_deleted_export_comes_back_on_a_rerun_in_the_same_directory(make_config, numbers_file, tmp_path):
    cfg = exporting(make_config, numbers_file)
    run(cfg, tmp_path / "a")
    written = (tmp_path / "a" / "exports" / "numbers.jsonl").read_bytes()
    (tmp_path / "a" / "exports" / "numbers.jsonl").unlink()
    assert run(cfg, tmp_path / "a")["stages"]["exported"]["reused"]
    assert (tmp_path / "a" / "exports" / "numbers.jsonl").read_bytes() == written


def test_a_stage_that_fails_leaves_no_file(make_config, numbers_file, tmp_path):
    numbers_file.write_text(numbers_file.read_text() + '{"n": 99, "label": "n99"}\n')
    summary = run(exporting(make_config, numbers_file), tmp_path / "a")
    assert summary["status"] == "failed" and "99 is not allowed" in summary["error"]
    assert not (tmp_path / "a" / "exports").exists()


def test_output_paths_stay_inside_the_run_directory(tmp_path):
    ctx = Context("s", None, 0, tmp_path, tmp_path, [], False, False, None, None)
    for bad in ("../outside.txt", "/tmp/outside.txt", ".stage_files/x"):
        with pytest.raises(StageError, match="inside the run directory"):
            ctx.output_path(bad)
    assert ctx.output_path("exports/a.jsonl").parent.is_dir()
