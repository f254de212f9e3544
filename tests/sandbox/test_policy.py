"""The compile-time policy and run-time guards, in process (no workers): what compiles and what is denied."""

from __future__ import annotations

import pytest

from engine.sandbox.guards import Guards, SandboxViolation
from engine.sandbox.policy import CompileRejected, compile_verifier
from engine.sandbox.pool import default_allowed_imports


@pytest.fixture(scope="module")
def guards():
    return Guards(default_allowed_imports())


def call(guards: Guards, source: str, *args):
    namespace = guards.new_globals()
    exec(compile_verifier(source), namespace)
    return namespace["f"](*args)


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    d = {'a': 1}\n    d['a'] += 2\n    return d['a']\n", 3),
    ("class C:\n    def __init__(self):\n        self.x = 1\n"
     "def f():\n    c = C()\n    c.x += 1\n    return c.x\n", 2),
    ("def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += 5\n    g()\n    return n\n", 5),
    ("def f():\n    n: int = 4\n    return n\n", 4),
    ("def f():\n    xs = [1, 2, 3]\n    xs[1:] += [9]\n    return xs\n", [1, 2, 3, 9]),
    ("def f():\n    return '{} {x:>3}'.format(1, x=2)\n", "1   2"),
    ("def f():\n    return str.format('{0}', 7)\n", "7"),
])
def test_code_stock_restrictedpython_rejects_runs(guards, source, expected):
    assert call(guards, source) == expected


@pytest.mark.parametrize("source, status", [
    ("def f(:\n", "syntax"),
    ("return 1\n", "syntax"),
    ("def f():\n    return ().__class__\n", "forbidden"),
    ("def f(x):\n    x.__dict__ += 1\n", "forbidden"),
    ("def f(x):\n    x.gi_frame += 1\n", "forbidden"),
    ("def f(x):\n    match x:\n        case _:\n            return 1\n", "forbidden"),
    ("async def f():\n    return 1\n", "forbidden"),
])
def test_rejected_sources_get_their_status(source, status):
    with pytest.raises(CompileRejected) as rejected:
        compile_verifier(source)
    assert rejected.value.status == status


@pytest.mark.parametrize("source", [
    "def f():\n    return '{0.__class__}'.format('x')\n",
    "def f():\n    return '{x[a].__class__}'.format_map({'x': {'a': 1}})\n",
    "import re\ndef f():\n    return re.enum\n",
    "def f():\n    import os\n",
    "import json\ndef f():\n    json.x = 1\n",
])
def test_guards_deny_and_remember(guards, source):
    guards.violation = None
    with pytest.raises(SandboxViolation):
        call(guards, source)
    assert guards.violation


def test_views_hold_no_submodules(guards):
    assert "enum" not in vars(guards.views["re"]) and "loads" in vars(guards.views["json"])
