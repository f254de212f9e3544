"""Step 3 on hand-made verifiers run in the real sandbox, then the SQL filters over the resulting matrix: the
original's flaws (always-False functions, "True" strings, crashes) must not pass."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

from engine.config import PROJECT_ROOT
from engine.sandbox import Sandbox
from stages.autoif.verifier_matrix import SKIPPED, Params, verifier_matrix

CORRECT = "def evaluate(response):\n    return len(response.split()) >= 3\n"
ALWAYS_FALSE = "def evaluate(response):\n    return False\n"
STRINGS = "def evaluate(response):\n    return str(len(response.split()) >= 3)\n"
CRASH = "def evaluate(response):\n    return 1 / 0 > 0\n"
HANG = "def evaluate(response):\n    while True:\n        pass\n"
ATTACK = "import os\n\ndef evaluate(response):\n    return os.system('true') == 0\n"
# right on every case but one, where it tries a forbidden import: accuracy 0.8 would keep it
SNEAKY = ("def evaluate(response):\n    if response == 'x y z':\n        import os\n"
          "    return len(response.split()) >= 3\n")
SQL_STAGES = ["case_agreement", "verifier_accuracy", "constraints_verified", "verifiers_kept"]


def _samples(constraint_id: str, funcs: dict[str, str]) -> list[dict]:
    return [{"id": f"{constraint_id}-{name}", "constraint_id": constraint_id, "code": src, "llm_key": "",
             "simulated": False} for name, src in funcs.items()]


def _cases(constraint_id: str, labelled: list[tuple[str, bool]]) -> list[dict]:
    return [{"id": f"{constraint_id}-case{i}", "constraint_id": constraint_id, "input": text, "expected": expected}
            for i, (text, expected) in enumerate(labelled)]


def run_filters(constraints, samples, cases, matrix, **thresholds) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    tables = {"constraints": constraints, "verifier_samples": samples, "verifier_cases": cases,
              "verifier_matrix": matrix,
              "verification_thresholds": [{"min_verifiers": 3, "min_cases": 4, "min_verifier_accuracy": 0.8,
                                           "pass_threshold": 1.0, **thresholds}]}
    for name, rows in tables.items():
        if name in ("constraints", "verifier_samples", "verifier_cases"):  # engine tables: every row has lineage
            rows = [{"parent_ids": [f"parent-of-{r['id']}"], **r} for r in rows]
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute(f"create table {name} as select * from rows")
        con.unregister("rows")
    for stage in SQL_STAGES:
        sql = Path(PROJECT_ROOT / "sql/autoif" / f"{stage}.sql").read_text()
        con.execute(f"create table {stage}__all as {sql}")
        columns = {r[0] for r in con.execute(f"describe {stage}__all").fetchall()}
        where = "exclude (reason, detail) from {0}__all where reason is null" if "reason" in columns else \
            "from {0}__all"
        con.execute(f"create table {stage} as select * " + where.format(stage))
    return con


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, timeout_s=1.0, cache="off") as sb:
        yield sb


@pytest.fixture(scope="module")
def filtered(sandbox):
    labelled = [("one two three four", True), ("a b c d e", True), ("short", False), ("two words", False),
                ("x y z", True)]
    only_false = [("short", False), ("two words", False), ("one", False), ("no", False)]
    funcs = {"correct": CORRECT, "always_false": ALWAYS_FALSE, "strings": STRINGS, "crash": CRASH, "hang": HANG,
             "attack": ATTACK, "sneaky": SNEAKY}
    samples = _samples("c1", funcs) + _samples("c2", {"always_false": ALWAYS_FALSE, "f2": ALWAYS_FALSE,
                                                      "f3": ALWAYS_FALSE, "correct": CORRECT})
    cases = _cases("c1", labelled) + _cases("c2", only_false)
    ctx = SimpleNamespace(sandbox=sandbox, progress=lambda it, **_: it)
    matrix = verifier_matrix(samples, cases, Params(), ctx)
    constraints = [{"id": "c1", "text": "At least 3 words.", "origin": "seed", "simulated": False},
                   {"id": "c2", "text": "At least 3 words, false cases only.", "origin": "seed", "simulated": False}]
    return matrix, run_filters(constraints, samples, cases, matrix)


def test_the_matrix_has_one_row_per_function_and_case_of_the_same_constraint(filtered):
    matrix, _ = filtered
    assert len(matrix) == 7 * 5 + 4 * 4
    assert len({(r["verifier_id"], r["case_id"]) for r in matrix}) == len(matrix)
    statuses = {r["verifier_id"].split("-")[1]: r["status"] for r in matrix if r["constraint_id"] == "c1"}
    assert statuses == {"correct": "ok", "always_false": "ok", "strings": "ok", "crash": "error", "hang": "timeout",
                        "attack": statuses["attack"], "sneaky": "forbidden"}  # on its last case
    assert statuses["attack"] in ("forbidden", "syntax")


def test_a_function_that_hangs_on_its_first_case_is_not_run_on_the_others(filtered):
    matrix, _ = filtered
    hang = [r for r in matrix if r["verifier_id"] == "c1-hang"]
    assert [r["status"] for r in hang] == ["timeout"] * 5
    assert [r["message"] == SKIPPED for r in hang] == [False, True, True, True, True]


def test_only_real_booleans_count_and_failures_are_wrong_answers(filtered):
    _, con = filtered
    accuracy = dict(con.execute("select id, accuracy from verifier_accuracy where constraint_id = 'c1'").fetchall())
    assert accuracy["c1-correct"] == 1.0
    assert accuracy["c1-strings"] == 0.0  # "True" is not a verdict
    assert accuracy["c1-crash"] == 0.0 and accuracy["c1-hang"] == 0.0
    assert accuracy["c1-always_false"] == pytest.approx(2 / 5)
    kept = {r[0] for r in con.execute("select id from verifiers_kept").fetchall()}
    assert kept == {"c1-correct"}
    reasons = dict(con.execute("select id, reason from verifiers_kept__all where reason is not null").fetchall())
    assert reasons["c1-attack"] in ("forbidden_attempt", "does_not_compile")
    assert reasons["c1-always_false"] == "low_accuracy"


def test_one_forbidden_outcome_disqualifies_a_verifier_whatever_its_accuracy(filtered):
    _, con = filtered
    accuracy, forbidden = con.execute("select accuracy, n_forbidden from verifier_accuracy "
                                      "where id = 'c1-sneaky'").fetchone()
    assert accuracy >= 0.8 and forbidden == 1
    assert con.execute("select reason from verifiers_kept__all where id = 'c1-sneaky'").fetchone()[0] == \
        "forbidden_attempt"


def test_a_constraint_whose_kept_cases_are_all_false_is_dropped_although_always_false_scores_one(filtered):
    _, con = filtered
    assert con.execute("select accuracy from verifier_accuracy where id = 'c2-always_false'").fetchone()[0] == 1.0
    assert con.execute("select reason from constraints_verified__all where id = 'c2'").fetchone()[0] == "no_true_case"
    assert [r[0] for r in con.execute("select id from constraints_verified").fetchall()] == ["c1"]


def test_constraints_without_enough_compiling_functions_or_cases_are_dropped_with_their_reason(sandbox):
    samples = _samples("c3", {"a": CORRECT, "b": "def evaluate(response)\n    return True\n"})
    cases = _cases("c3", [("one two three", True), ("no", False)])
    ctx = SimpleNamespace(sandbox=sandbox, progress=lambda it, **_: it)
    con = run_filters([{"id": "c3", "text": "t", "origin": "seed", "simulated": False}], samples, cases,
                      verifier_matrix(samples, cases, Params(), ctx))
    assert con.execute("select reason from constraints_verified__all").fetchone()[0] == "too_few_verifiers"
    con = run_filters([{"id": "c3", "text": "t", "origin": "seed", "simulated": False}], samples, cases,
                      verifier_matrix(samples, cases, Params(), ctx), min_verifiers=1)
    assert con.execute("select reason from constraints_verified__all").fetchone()[0] == "too_few_cases"


def _probe_filter(probe_accuracy: float, probe_min_caught: float,
                  passes: dict[tuple[str, str], list[bool]] | None = None, probers: int = 1,
                  labels: list[bool] | None = None) -> dict[str, str | None]:
    """constraints_probed over hand-made probe checks, by default from one prober: c_generic passes every probe,
    c_misread passes the one written exactly at the limit, c_sound agrees with all. `labels`: each set's probers'
    labels (True: written to follow), the same for every set."""
    con = duckdb.connect()
    labels = labels or [True, False, True, False]
    passes = passes or {("c_generic", "prober"): [True] * 4, ("c_misread", "prober"): [True, True, True, False],
                        ("c_sound", "prober"): labels}
    tables = {
        "constraints_aligned": [{"id": c, "parent_ids": ["x"], "text": c, "origin": "seed", "simulated": False}
                                for c in sorted({c for c, _ in passes})],
        "probes": [{"id": f"{c}-{r}-p{i}", "constraint_id": c, "prober": r, "expected": e} for c, r in passes
                   for i, e in enumerate(labels)],
        "probe_checks": [{"response_id": f"{c}-{r}-p{i}", "pass_rate": 1.0 if ok else 0.0}
                         for (c, r), oks in passes.items() for i, ok in enumerate(oks)],
        "verification_thresholds": [{"pass_threshold": 1.0, "probe_accuracy": probe_accuracy,
                                     "probe_min_caught": probe_min_caught, "n_probers": probers}],
    }
    for name, rows in tables.items():
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute(f"create table {name} as select * from rows")
        con.unregister("rows")
    sql = Path(PROJECT_ROOT / "sql/autoif/constraints_probed.sql").read_text()
    return dict(con.execute(f"select id, reason from ({sql}) order by id").fetchall())


def test_probes_drop_checks_that_accept_anything_and_verifiers_that_share_a_misreading():
    assert _probe_filter(0.8, 0.5) == {"c_generic": "not_discriminating", "c_misread": "probe_disagreement",
                                       "c_sound": None}
    assert _probe_filter(0.0, 0.0) == {"c_generic": None, "c_misread": None, "c_sound": None}


def test_each_probers_set_must_pass_on_its_own_and_every_prober_must_have_probed():
    """A prober sharing the verifiers' misreading agrees with them on all its probes; pooled with another
    prober's set (7 of 8 agree) the misreading would pass probe_accuracy 0.8, judged per set it does not."""
    labels = [True, False, True, False]
    at_limit = [True, True, True, False]  # the verifiers pass the probe written exactly at the limit
    passes = {("c_misread", "prober"): labels, ("c_misread", "second_prober"): at_limit,
              ("c_sound", "prober"): labels, ("c_sound", "second_prober"): labels,
              ("c_half", "prober"): labels}  # the second prober wrote nothing readable for c_half
    assert _probe_filter(0.8, 0.5, passes, probers=2) == {"c_half": "not_probed", "c_misread": "probe_disagreement",
                                                         "c_sound": None}
    assert _probe_filter(0.8, 0.5, passes, probers=1)["c_half"] is None
