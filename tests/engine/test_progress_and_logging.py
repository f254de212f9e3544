"""`progress=false` turns off every bar (stages', the sandbox's, the model roles'), and engine.log has no line per
HTTP request unless asked for with `hydra.verbose=[engine.llm.wire]`: a real run sends hundreds of thousands.
(The SDK transport's client would log each request through httpx2; tests/llm/test_wire.py checks the flag on
both transports.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.config import PROJECT_ROOT
from engine.testing.fake_openai import serve_in_thread, stats

SMALL_AUTOIF = ["+experiment=autoif", "autoif.augment_calls=1", "autoif.lines_per_call=5"]  # models and sandbox


def engine(*args: str, tmp_path: Path, name: str) -> tuple[subprocess.CompletedProcess, str]:
    env = {**os.environ, "EXECFEED_CACHE_DIR": str(tmp_path / f"cache_{name}")}
    res = subprocess.run([sys.executable, "-m", "engine", *args, f"hydra.run.dir={tmp_path / name}"],
                         capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    return res, (tmp_path / name / "engine.log").read_text()


def test_progress_false_draws_no_bar_and_requests_are_logged_only_when_asked(tmp_path):
    with serve_in_thread() as server:
        endpoint = ["llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=x"]
        quiet, quiet_log = engine(*SMALL_AUTOIF, *endpoint, "llm.transport=sdk", "progress=false", tmp_path=tmp_path,
                                  name="quiet")
        sent_quiet = stats(server.base_url)["requests"]
        loud, loud_log = engine(*SMALL_AUTOIF, *endpoint, "hydra.verbose=[engine.llm.wire]", tmp_path=tmp_path,
                                name="loud")
        sent_loud = stats(server.base_url)["requests"] - sent_quiet
    assert sent_quiet > 100 and sent_loud == sent_quiet  # both runs paid for the same requests
    assert "it/s" not in quiet.stderr and "%|" not in quiet.stderr
    assert "HTTP Request" not in quiet_log and "POST http" not in quiet_log
    # the same run with the defaults draws the model and sandbox bars, and the debug flag logs each request
    assert "cross-validate" in loud.stderr and "it/s" in loud.stderr
    assert loud_log.count(f"[engine.llm.wire][DEBUG] - POST {server.base_url}/chat/completions: HTTP 200") \
        == sent_loud
