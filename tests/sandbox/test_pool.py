"""Pool behaviour: ordering, workers dying mid-chunk, the cache, verdicts, stats, clean shutdown."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from engine.sandbox import Job, Outcome, Sandbox, as_verdict
from engine.sandbox.pool import DEFAULT_CONFIG_PATH
from tests.sandbox.conftest import LIMITS

IDENTITY = "def f(x):\n    return x\n"
DOUBLE = "def f(x):\n    return 2 * x\n"
HANG = "def f(x):\n    while True:\n        pass\n"
SEGFAULT = ("def f(x):\n    it = iter([1])\n    for _ in range(1000000):\n        it = map(abs, it)\n"
            "    return next(it)\n")
BUSY = "def f(x):\n    total = 0\n    for i in range(x):\n        total = total + i\n    return total\n"


def test_outcomes_come_back_in_order(sandbox):
    jobs = [Job(IDENTITY if i % 3 else DOUBLE, "f", (i,)) for i in range(300)]
    assert [o.value for o in sandbox.run(jobs)] == [i if i % 3 else 2 * i for i in range(300)]


def test_timeout_mid_chunk_keeps_the_rest_of_the_chunk():
    jobs = [Job(HANG if i == 2 else IDENTITY, "f", (i,)) for i in range(12)]
    with Sandbox(workers=1, **LIMITS) as sb:
        outcomes = sb.run(jobs)
    assert outcomes[2].status == "timeout"
    assert [o.value for i, o in enumerate(outcomes) if i != 2] == [i for i in range(12) if i != 2]


def test_crash_mid_chunk_is_an_error_and_the_rest_runs():
    jobs = [Job(SEGFAULT if i == 1 else IDENTITY, "f", (i,)) for i in range(6)]
    with Sandbox(workers=1, **LIMITS) as sb:
        outcomes = sb.run(jobs)
    assert outcomes[1].status == "error" and "SIGSEGV" in outcomes[1].message
    assert [o.status for i, o in enumerate(outcomes) if i != 1] == ["ok"] * 5


def test_memory_bomb_mid_chunk_is_memory_and_the_worker_goes_on():
    bomb = "def f(x):\n    return len('a' * 10 ** 10)\n"
    with Sandbox(workers=1, **LIMITS) as sb:
        outcomes = sb.run([Job(IDENTITY, "f", (0,)), Job(bomb, "f", (0,)), Job(IDENTITY, "f", (2,))])
    assert [o.status for o in outcomes] == ["ok", "memory", "ok"]


def test_worker_killed_from_outside_mid_chunk_is_replaced_and_the_job_retried():
    jobs = [Job(IDENTITY, "f", (i,)) for i in range(3)] + [Job(BUSY, "f", (30_000_000,))]
    jobs += [Job(IDENTITY, "f", (i,)) for i in range(4, 8)]
    with Sandbox(workers=1, timeout_s=20.0, memory_mb=256) as sb:
        sb.run([Job(IDENTITY, "f", (0,))])
        (victim,) = sb.worker_pids()
        threading.Timer(0.2, os.kill, (victim, signal.SIGKILL)).start()
        outcomes = sb.run(jobs)
        assert sb.worker_pids() != [victim]
    assert [o.status for o in outcomes] == ["ok"] * 8
    assert outcomes[3].value == sum(range(30_000_000))


def test_cache_serves_a_later_sandbox_on_the_same_file(tmp_path):
    jobs = [Job(DOUBLE, "f", (i,)) for i in range(20)] + [Job(HANG, "f", (0,))]
    with Sandbox(workers=2, cache_path=tmp_path / "sandbox.sqlite", **LIMITS) as first:
        expected = first.run(jobs)
    with Sandbox(workers=2, cache_path=tmp_path / "sandbox.sqlite", **LIMITS) as second:
        assert second.run(jobs) == expected
        assert second.stats["cache_hits"] == len(jobs) and second.stats["executions"] == 0
        assert second.worker_pids() == []  # nothing to execute: no worker was even started


def test_cache_key_includes_the_limits(tmp_path):
    job = Job(DOUBLE, "f", (1,))
    with Sandbox(workers=1, cache_path=tmp_path / "c.sqlite", **LIMITS) as sb:
        sb.run([job])
    with Sandbox(workers=1, cache_path=tmp_path / "c.sqlite", timeout_s=3.0, memory_mb=256) as sb:
        sb.run([job])
        assert sb.stats["cache_hits"] == 0


def test_identical_jobs_in_a_batch_run_once(tmp_path):
    with Sandbox(workers=1, cache_path=tmp_path / "c.sqlite", **LIMITS) as sb:
        outcomes = sb.run([Job(DOUBLE, "f", (5,))] * 10)
        assert sb.stats["executions"] == 1
    assert {o.value for o in outcomes} == {10}


def test_readonly_cache_reads_but_never_writes(tmp_path):
    path = tmp_path / "c.sqlite"
    with Sandbox(workers=1, cache_path=path, **LIMITS) as sb:
        sb.run([Job(DOUBLE, "f", (1,))])
    with Sandbox(workers=1, cache_path=path, cache="readonly", **LIMITS) as sb:
        sb.run([Job(DOUBLE, "f", (1,)), Job(DOUBLE, "f", (2,))])
        assert sb.stats["cache_hits"] == 1
    with Sandbox(workers=1, cache_path=path, **LIMITS) as sb:
        sb.run([Job(DOUBLE, "f", (2,))])
        assert sb.stats["cache_hits"] == 0


def test_cache_is_safe_with_several_processes(tmp_path):
    path = tmp_path / "shared.sqlite"
    script = (f"from engine.sandbox import Sandbox, Job\n"
              f"with Sandbox(workers=1, timeout_s=1.0, memory_mb=256, cache_path={str(path)!r}) as sb:\n"
              f"    assert [o.value for o in sb.run([Job({DOUBLE!r}, 'f', (i,)) for i in range(200)])] == "
              f"[2 * i for i in range(200)]\n")
    root = Path(__file__).parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", script], cwd=root) for _ in range(3)]
    assert [w.wait(120) for w in writers] == [0, 0, 0]
    with Sandbox(workers=1, cache_path=path, **LIMITS) as sb:
        sb.run([Job(DOUBLE, "f", (i,)) for i in range(200)])
        assert sb.stats["cache_hits"] == 200


def test_only_real_bools_are_verdicts(sandbox):
    returns = ["True", "'True'", "1", "None", "False", "[True]"]
    jobs = [Job(f"def f():\n    return {r}\n", "f", ()) for r in returns]
    verdicts = sandbox.run(jobs, expect_bool=True)
    assert [(o.status, o.value) for o in verdicts] == [("ok", True), ("error", None), ("error", None),
                                                       ("error", None), ("ok", False), ("error", None)]
    assert {o.message for o in verdicts if o.status == "error"} == {"non-bool"}
    assert sandbox.run(jobs[1:2])[0] == Outcome("ok", "True", "")
    assert as_verdict(Outcome("ok", "True")) == Outcome("error", None, "non-bool")
    assert as_verdict(Outcome("timeout", None, "slow")) == Outcome("timeout", None, "slow")


def test_an_object_claiming_to_be_a_bool_is_no_verdict(sandbox):
    # its __class__ property says bool, so isinstance(value, bool) holds: only type() tells the truth
    fake = "Fake = type('Fake', (), {'__class__': property(lambda s: bool), '__bool__': lambda s: True})\n"
    alone, in_a_list = (Job(fake + f"def f():\n    return {value}\n", "f", ()) for value in ("Fake()", "[Fake()]"))
    for outcome in (*sandbox.run([alone], expect_bool=True), *sandbox.run([alone, in_a_list])):
        assert outcome.status == "error" and "not plain data" in outcome.message, outcome


def test_return_values_become_plain_data(sandbox):
    source = ("from collections import Counter, OrderedDict\nimport re\n"
              "def f():\n"
              "    return [(1, 'a'), {1, 2}, Counter('aab'), OrderedDict(k=None), re.IGNORECASE, b'x']\n")
    (outcome,) = sandbox.run([Job(source, "f", ())])
    assert outcome.value == [(1, "a"), {1, 2}, {"a": 2, "b": 1}, {"k": None}, 2, b"x"]
    assert type(outcome.value[2]) is dict and type(outcome.value[4]) is int


def test_missing_entry_is_an_error(sandbox):
    (outcome,) = sandbox.run([Job("x = 1\n", "evaluate", ("t",))])
    assert outcome.status == "error" and "evaluate" in outcome.message


def test_stats_count_executions_and_statuses(tmp_path):
    with Sandbox(workers=1, cache_path=tmp_path / "c.sqlite", **LIMITS) as sb:
        sb.run([Job(IDENTITY, "f", (1,)), Job("import os\ndef f(x):\n    return x\n", "f", (1,)),
                Job("def f(x):\n    return 1 / 0\n", "f", (1,)), Job("def f(:\n", "f", (1,)),
                Job(HANG, "f", (1,))])
        sb.run([Job(IDENTITY, "f", (1,))])
        assert sb.stats == {"executions": 5, "cache_hits": 1, "timeouts": 1, "memory": 0, "forbidden": 1,
                            "errors": 2}


def test_close_reaps_every_worker_and_removes_its_directory():
    sb = Sandbox(workers=2, **LIMITS)
    sb.run([Job(HANG, "f", (0,)), Job(IDENTITY, "f", (1,))])  # one worker was replaced on the way
    workers = [w for w in sb.slots if w is not None]
    sb.close()
    sb.close()
    for worker in workers:
        assert worker.process.returncode is not None
        assert not Path(f"/proc/{worker.pid}").exists()
        assert not Path(worker.workdir).exists()
        with pytest.raises(ChildProcessError):  # already reaped: no zombie left
            os.waitpid(worker.pid, os.WNOHANG)
    with pytest.raises(RuntimeError, match="after close"):
        sb.run([Job(IDENTITY, "f", (1,))])


def test_host_signal_handlers_are_left_alone():
    before = {s: signal.getsignal(s) for s in (signal.SIGALRM, signal.SIGCHLD, signal.SIGINT, signal.SIGTERM)}
    with Sandbox(workers=1, **LIMITS) as sb:
        sb.run([Job(HANG, "f", (0,)), Job(IDENTITY, "f", (0,))])
    assert {s: signal.getsignal(s) for s in before} == before


def test_workers_report_their_containment(sandbox):
    held = sandbox.containment
    assert set(held) == {"network_namespace", "chroot", "no_new_privileges", "unprivileged"}
    assert held["unprivileged"]


def test_constructor_takes_exactly_the_config_keys_with_the_same_defaults():
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    with Sandbox(**config, cache_path=None) as sb:
        assert sb.settings.allowed_imports == tuple(config["allowed_imports"])
    parameters = inspect.signature(Sandbox).parameters
    assert set(parameters) == {*config, "cache_path", "progress"}  # progress: the run's, not a sandbox key
    for key in ("workers", "timeout_s", "memory_mb", "cpu_s", "cache"):
        assert parameters[key].default == config[key], key


@pytest.mark.parametrize("settings, key", [({"workers": 0}, "workers"), ({"timeout_s": 0}, "timeout_s"),
                                           ({"memory_mb": 1}, "memory_mb"), ({"cache": "maybe"}, "cache"),
                                           ({"allowed_imports": ["os.path"]}, "allowed_imports")])
def test_bad_settings_name_the_key(settings, key):
    with pytest.raises(ValueError, match=f"sandbox.{key}"):
        Sandbox(**settings)


def test_job_args_must_be_a_tuple():
    with pytest.raises(TypeError, match="tuple"):
        Job(IDENTITY, "f", ["x"])
