"""AutoIF through the real openai backend against the loopback server: with 10% injected faults the run ends with
the same final rows as without. The faults drawn are the transient ones a client recovers from by retrying (429,
500, slow replies past the timeout, dropped connections, malformed bodies, empty choices); a cut reply ("length")
or a withheld one ("content_filter") is an answer, not a fault to retry, and must end as a rejected row instead."""

from __future__ import annotations

import pytest

from engine.config import PROJECT_ROOT
from engine.testing.fake_openai import serve_in_thread
from tests.conftest import table

TRANSIENT = ("rate_limit", "server_error", "slow", "drop", "malformed", "empty_choices")
FINAL = "select prompt, response, score from responses_scored order by all"
SLOW_S = 6.0  # how late a "slow" fault answers


def _overrides(url: str, seeds) -> list[str]:
    # each test server listens on a new port; one endpoint_id says they serve one model, so rows get the same ids.
    # The timeout is SLOW_S / 2: a slow fault always outlasts it, and a reply the server (a thread of this busy
    # process) is merely late with gets 3 s before it is called a timeout and sent again
    return ["llm=openai", f"llm.base_url={url}", "llm.endpoint_id=loopback", "llm.api_key=sk-loopback",
            "llm.model=sim-teacher",
            f"llm.timeout_s={SLOW_S / 2:g}", "llm.backoff_s=0.01", "llm.backoff_max_s=0.05", "llm.max_retries=8",
            f"autoif.seed_constraints={seeds}", "autoif.augment_calls=1", "autoif.lines_per_call=6",
            "autoif.min_cases=8", "autoif.queries_per_instruction=2"]


@pytest.fixture
def seeds(tmp_path):
    lines = (PROJECT_ROOT / "sample_data/ifeval_seed_constraints.txt").read_text().splitlines()
    path = tmp_path / "seeds.txt"
    path.write_text("\n".join(lines[:10]) + "\n")
    return path


def test_transient_faults_change_nothing_in_the_final_rows(run_experiment, tmp_path, seeds):
    with serve_in_thread() as clean:
        summary, clean_dir = run_experiment("autoif", *_overrides(clean.base_url, seeds), run_dir=tmp_path / "clean",
                                            cache_dir=tmp_path / "cache_clean")
    assert summary["status"] == "ok", summary["error"]
    with serve_in_thread(fail_rate=0.1, faults=TRANSIENT, slow_s=SLOW_S) as faulty:
        faulty_summary, faulty_dir = run_experiment("autoif", *_overrides(faulty.base_url, seeds),
                                                    run_dir=tmp_path / "faulty", cache_dir=tmp_path / "cache_faulty")
        injected = sum(faulty.server.stats()["faults"].values())
    assert faulty_summary["status"] == "ok", faulty_summary["error"]
    assert injected > 0 and faulty_summary["llm"]["retries"] > 0
    assert faulty_summary["llm"]["failures"] == 0
    final = table(clean_dir, FINAL)
    assert final and table(faulty_dir, FINAL) == final
    assert table(faulty_dir, "select bool_and(simulated) from responses_scored") == [(True,)]
