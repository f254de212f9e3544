"""The cross-validation matrix: every function on every case, JSON values, and its documented SQL runs."""

from __future__ import annotations

import json
from textwrap import dedent

import duckdb

from engine.sandbox import matrix
from engine.sandbox.matrix import cross_validate

FUNCTIONS = [
    {"id": "long", "source": "def evaluate(t):\n    return len(t.split()) >= 3\n", "entry": "evaluate"},
    {"id": "short", "source": "def evaluate(t):\n    return len(t.split()) < 3\n", "entry": "evaluate"},
    {"id": "text", "source": "def evaluate(t):\n    return 'yes'\n", "entry": "evaluate"},
    {"id": "broken", "source": "def evaluate(t):\n    return t.nope()\n", "entry": "evaluate"},
]
CASES = [{"id": "c1", "args": ["one two three four"], "expected": True},
         {"id": "c2", "args": ["one"], "expected": False}]


def test_every_function_runs_on_every_case(sandbox):
    rows = cross_validate(sandbox, FUNCTIONS, CASES, expect_bool=True)
    expected_keys = [(f["id"], c["id"]) for f in FUNCTIONS for c in CASES]
    assert [(r["function_id"], r["case_id"]) for r in rows] == expected_keys
    by_key = {(r["function_id"], r["case_id"]): r for r in rows}
    assert by_key[("long", "c1")]["value"] == "true" and by_key[("short", "c1")]["value"] == "false"
    assert by_key[("text", "c1")] == {"function_id": "text", "case_id": "c1", "status": "error", "value": None,
                                      "message": "non-bool"}
    assert by_key[("broken", "c2")]["status"] == "error"


def test_values_are_json_text(sandbox):
    source = "def evaluate(t):\n    return {'n': (1, 2), 3: {'b', 'a'}, 'f': float('nan'), 'raw': b'x'}\n"
    function = {"id": "f", "source": source, "entry": "evaluate"}
    (row,) = cross_validate(sandbox, [function], [{"id": "c", "args": ("t",)}])
    assert json.loads(row["value"]) == {"n": [1, 2], "3": ["a", "b"], "f": "nan", "raw": "x"}


def test_documented_sql_runs_on_the_stored_matrix(sandbox):
    rows = cross_validate(sandbox, FUNCTIONS, CASES, expect_bool=True)
    sql = dedent(matrix.__doc__.split("majority verdict are:\n")[1])
    con = duckdb.connect()
    con.execute("create table verifier_matrix (function_id varchar, case_id varchar, status varchar, "
                "value varchar, message varchar)")
    con.executemany("insert into verifier_matrix values (?, ?, ?, ?, ?)",
                    [tuple(r.values()) for r in rows])
    con.execute("create table cases as "
                "select * from (values ('c1', true), ('c2', false)) t(case_id, expected)")
    result = {function_id: (accuracy, failed) for function_id, accuracy, _, failed in con.execute(sql).fetchall()}
    assert result["long"] == (1.0, 0) and result["short"] == (0.0, 0) and result["broken"] == (0.0, 2)
