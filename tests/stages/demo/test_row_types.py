"""The demo's stages declare their rows the three ways a Python stage can: a map returns its row type, a filter
takes it (the rows it keeps are the rows it is given), a fn returns a list of it."""

from __future__ import annotations

from engine.rows import declared_schema, row_type
from stages.demo.compounds import Compound, compounds
from stages.demo.constraints_tagged import TaggedConstraint, constraints_tagged
from stages.demo.constraints_verifiable import constraints_verifiable
from tests.stages.row_types import row_type_problems


def test_map_filter_and_fn_stages_declare_their_row_types():
    assert row_type(constraints_tagged) is TaggedConstraint
    assert row_type(constraints_verifiable) is TaggedConstraint
    assert row_type(compounds) is Compound
    assert declared_schema(constraints_verifiable).names == ["text", "family", "numbers"]


def test_an_undeclared_stage_has_no_row_type():
    def untyped(row: dict) -> bool | str:
        return True

    def listed(rows: list[dict]) -> list[dict]:
        return rows

    assert row_type(untyped) is None and row_type(listed) is None


def test_the_demo_tables_have_the_columns_their_stages_declare(run_experiment):
    summary, run_dir = run_experiment("demo")
    assert summary["status"] == "ok", summary["error"]
    assert row_type_problems(run_dir, "demo") == {}
