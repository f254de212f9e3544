"""A stage parameter that names a model role, or needs a kind of model, is checked against the roles the stage
declares before the first stage (engine.graph validates params with them): AutoIF's `nli_method=classify` needs an
NLI classifier as its nli role, and principle_examples' checker names a function that imports and a role its
stages may call. Each mistake stops the run with nothing run or paid, at the key the user typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.preflight import check
from engine.testing.fake_openai import serve_in_thread, stats
from tests.engine.test_bad_input import engine
from tests.engine.test_config_keys import composed, refused

NLI_KEY = "config error at autoif.nli_method (used as stages.nli.params.nli_method): "
CHECKER_KEY = "config error at principle_examples.principle.checker.{0} (used as stages.library_seed.params." \
              "principle.checker.{0}): "


def test_classify_on_a_backend_that_cannot_classify_is_refused(tmp_path):
    error = refused("autoif", "autoif.nli_method=classify", tmp_path=tmp_path)
    assert error == (NLI_KEY + "nli_method 'classify' needs role 'nli' to be an NLI classifier (else use "
                     "nli_method=llm), but its backend is 'sim', which cannot classify (backend hf with a local "
                     "sequence-classification checkpoint, e.g. an mDeBERTa XNLI, can) (found 'classify')")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("transformers")
    from engine.testing.tiny_models import build_tiny_causal_lm, build_tiny_nli_classifier

    root = tmp_path_factory.mktemp("tiny")
    return {"lm": build_tiny_causal_lm(root / "lm"), "nli": build_tiny_nli_classifier(root / "nli")}


def test_classify_with_a_model_that_has_no_nli_labels_is_refused(tmp_path, tiny_models):
    # a causal LM read as a classifier says LABEL_0, LABEL_1: its config.json says so, no weights loaded
    error = refused("autoif", "autoif.nli_method=classify", "+roles.nli.backend=hf",
                    f"+roles.nli.model={tiny_models['lm']}", tmp_path=tmp_path)
    assert error.startswith(NLI_KEY + "nli_method 'classify' needs role 'nli' to be an NLI classifier (else use "
                            f"nli_method=llm), but its model '{tiny_models['lm']}': an NLI classifier's labels must "
                            "name entailment, neutral and contradiction; found ['LABEL_0', 'LABEL_1']")


def test_classify_with_an_nli_classifier_passes(tmp_path, tiny_models):
    config, graph = check(composed("autoif", "autoif.nli_method=classify", "+roles.nli.backend=hf",
                                   f"+roles.nli.model={tiny_models['nli']}", tmp_path=tmp_path))
    assert graph.stages["nli"].params.nli_method == "classify"


@pytest.mark.parametrize(("overrides", "message"), [
    (["principle_examples.principle.checker.role=teachr"],
     "role 'teachr' is not a model role of this stage (llm: [teacher]), so the checker could not call it; did you "
     "mean `teacher`? (found 'teachr')"),
    (["principle_examples.principle.checker.kind=llm_judge", "principle_examples.principle.checker.role=student"],
     "role 'student' is not a model role of this stage (llm: [teacher]), so the checker could not call it "
     "(found 'student')"),
], ids=["misspelt", "a_role_the_stage_does_not_declare"])
def test_a_checker_role_the_stage_cannot_call_is_refused(tmp_path, overrides, message):
    assert refused("principle_examples", *overrides, tmp_path=tmp_path) == CHECKER_KEY.format("role") + message


def test_a_checker_function_that_does_not_exist_is_refused_at_its_key(tmp_path):
    error = refused("principle_examples", "principle_examples.principle.checker.fn=helpers.principle_examples."
                    "checker:acrostic_chek", tmp_path=tmp_path)
    assert error == CHECKER_KEY.format("fn") + ("module 'helpers.principle_examples.checker' has no function "
                                                "'acrostic_chek' (found 'helpers.principle_examples.checker:"
                                                "acrostic_chek')")


def test_on_the_command_line_classify_on_an_endpoint_exits_before_any_stage_or_request(tmp_path):
    run_dir = tmp_path / "run"
    with serve_in_thread() as server:
        res = engine("+experiment=autoif", "llm=openai", f"llm.base_url={server.base_url}", "llm.api_key=x",
                     "autoif.nli_method=classify", f"hydra.run.dir={run_dir}", tmp_path=tmp_path)
        assert stats(server.base_url)["requests"] == 0
    assert res.returncode == 1 and "Traceback" not in res.stderr + (run_dir / "engine.log").read_text()
    assert NLI_KEY + "nli_method 'classify' needs role 'nli' to be an NLI classifier (else use nli_method=llm), " \
                     "but its backend is 'openai', which cannot classify" in res.stderr
    assert not (run_dir / "run.duckdb").exists()
