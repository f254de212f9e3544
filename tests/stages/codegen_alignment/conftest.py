from __future__ import annotations

import pytest

from engine.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=1, timeout_s=2.0, cache="off") as sb:
        yield sb
