"""A weak model may leave any stage after it empty: every Python stage downstream of a model or the sandbox that
a SQL stage reads declares its row type, so its empty table keeps its columns and the SQL still binds (issue 16:
AutoIF's verifier_cases came out column-less and case_agreement.sql failed on case_id)."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from engine.config import PROJECT_ROOT, load
from engine.graph import build
from engine.rows import declared_schema

EXPERIMENTS = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "experiment").glob("*.yaml"))


def _graph(experiment: str):
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        return build(load(compose("config", overrides=[f"+experiment={experiment}"])))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_python_stages_a_model_can_empty_declare_their_row_type_where_sql_reads_them(experiment):
    stages = _graph(experiment).stages
    at_risk: set[str] = set()  # stages whose rows depend on what a model wrote or a verifier did
    changed = True
    while changed:
        changed = False
        for stage in stages.values():
            if stage.name not in at_risk and (stage.spec.llm or stage.spec.sandbox
                                              or any(ref.stage in at_risk for ref in stage.inputs)):
                at_risk.add(stage.name)
                changed = True
    read_by_sql = {ref.stage for stage in stages.values() if stage.kind == "sql" for ref in stage.inputs}
    undeclared = sorted(name for name in at_risk & read_by_sql
                        if stages[name].kind not in ("sql", "source") and declared_schema(stages[name].func) is None)
    assert not undeclared, f"{experiment}: declare the row type of {undeclared} (`-> list[Row | Rejected]`)"
