"""Limits that hold across processes: in-flight slots and per-minute budgets."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from engine.llm.limits import SharedRateLimit
from tests.llm.conftest import openai_config, prompts

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# each client waits at a barrier (a file per client) before sending, so their batches overlap however long each
# takes to start on a busy machine
CLIENT = textwrap.dedent("""
    import pathlib, sys, time
    from engine.llm import Request, make_llm
    base_url, cache_dir, name, barrier = sys.argv[1:]
    cfg = {"backend": "openai", "model": "m", "base_url": base_url, "api_key": "test", "max_in_flight": 3,
           "cache": "off", "progress": False}
    llm = make_llm(cfg, stage="s", role="r", cache_dir=cache_dir, ledger=[], truth=[])
    requests = [Request([{"role": "user", "content": f"{name} {i}"}], task="generic.echo") for i in range(40)]
    (pathlib.Path(barrier) / name).touch()
    while len(list(pathlib.Path(barrier).iterdir())) < 2:
        time.sleep(0.01)
    assert all(r.ok for r in llm.complete(requests))
""")


def run_two_clients(base_url: str, cache_dirs: tuple[Path, Path], barrier: Path) -> None:
    barrier.mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", CLIENT, base_url, str(cache_dir), name, str(barrier)],
                         cwd=PROJECT_ROOT)
        for name, cache_dir in zip(("a", "b"), cache_dirs, strict=True)
    ]
    assert [p.wait(120) for p in procs] == [0, 0]


def test_two_processes_sharing_a_limit_never_exceed_it_together(server, tmp_path):
    server.server.latency_s = 0.2  # each client is busy for seconds after the barrier: their batches overlap
    run_two_clients(server.base_url, (tmp_path, tmp_path), tmp_path / "barrier")
    stats = server.server.stats()
    assert stats["requests"] == 80
    assert stats["max_in_flight"] == 3


def test_processes_with_separate_limit_dirs_do_not_share(server, tmp_path):
    # the control for the test above: the overlap it relies on is real
    server.server.latency_s = 0.2
    run_two_clients(server.base_url, (tmp_path / "a", tmp_path / "b"), tmp_path / "barrier")
    assert server.server.stats()["max_in_flight"] > 3


def test_one_process_uses_its_whole_in_flight_limit(server, make):
    server.server.latency_s = 0.2  # long enough that all five are in flight at once on a busy machine too
    llm, _, _ = make(openai_config(server.base_url, max_in_flight=5, cache="off"))
    llm.complete(prompts(30))
    assert server.server.stats()["max_in_flight"] == 5


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_bucket(tmp_path):
    clock = FakeClock()
    limit = SharedRateLimit(tmp_path / "rate.sqlite", rpm=60, tpm=None, clock=clock)
    assert [limit.reserve(0) for _ in range(60)] == [0.0] * 60  # a minute's budget at once
    assert limit.reserve(0) == 1.0  # then one a second
    clock.now += 1.0
    assert limit.reserve(0) == 0.0


def test_tokens_per_minute_bucket_is_shared_through_its_file(tmp_path):
    clock = FakeClock()
    first = SharedRateLimit(tmp_path / "rate.sqlite", rpm=None, tpm=600, clock=clock)
    second = SharedRateLimit(tmp_path / "rate.sqlite", rpm=None, tpm=600, clock=clock)
    assert first.reserve(500) == 0.0
    assert second.reserve(200) == 10.0  # 100 tokens short at 10 tokens a second
    clock.now += 10.0
    assert second.reserve(200) == 0.0
    assert first.reserve(10_000) == 60.0  # bigger than a minute's budget: waits for a full bucket, not forever
