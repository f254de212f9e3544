"""Finished runs of the experiments that export, on the sim teacher, shared by the tests of their Hugging Face
datasets, cards and publishing (each run once a session)."""

from __future__ import annotations

import pytest

from tests.conftest import compose_and_run

EXPORTING = ("autoif", "principle_examples")  # the experiments whose graphs end in an exports stage


@pytest.fixture(scope="session")
def exported_run(tmp_path_factory):
    """exported_run(experiment) -> (summary, run dir) of a finished run, made the first time it is asked for."""
    runs: dict = {}

    def get(experiment: str):
        if experiment not in runs:
            tmp = tmp_path_factory.mktemp(experiment)
            summary = compose_and_run(experiment, run_dir=tmp / "run", cache_dir=tmp / "cache")
            assert summary["status"] == "ok", summary["error"]
            runs[experiment] = summary, tmp / "run", tmp / "cache"
        return runs[experiment][:2]

    get.cache_dir = lambda experiment: runs[experiment][2]
    return get
