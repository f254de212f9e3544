"""Which side a round generates: the regeneration policy, and the known-good modes that fix one side."""

from __future__ import annotations

from helpers.codegen_alignment.generation import side_generates


def test_round_zero_makes_both_sides_and_later_rounds_follow_the_policy():
    assert side_generates("functions", "tests", "none", 0) and side_generates("tests", "functions", "none", 0)
    assert [side_generates("tests", "alternate", "none", i) for i in (1, 2, 3)] == [True, False, True]
    assert not side_generates("functions", "tests", "none", 1)


def test_a_known_good_side_is_never_generated_and_the_other_is_every_round_whatever_the_policy():
    for i in range(3):
        assert not side_generates("functions", "both", "reference_function", i)
        assert side_generates("tests", "functions", "reference_function", i)
        assert not side_generates("tests", "both", "docstring_tests", i)
        assert side_generates("functions", "tests", "docstring_tests", i)


def test_the_second_coder_is_a_real_backends_other_sampler_not_a_sim_model_name(tmp_path):
    from types import SimpleNamespace

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from engine.config import PROJECT_ROOT
    from engine.llm import Request, make_llm
    from engine.run_env import role_config

    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=codegen_alignment", "llm=hf", f"llm.model={tmp_path}"])
    cfg = SimpleNamespace(**OmegaConf.to_container(cfg, resolve=True))
    coders = [make_llm(role_config(cfg, role), stage="functions", role=role, cache_dir=tmp_path, ledger=[], truth=[])
              for role in ("coder", "coder_alt")]
    assert {llm.cfg.model for llm in coders} == {str(tmp_path)}  # the hf model the user named, for both
    request = Request([{"role": "user", "content": "def add(a, b):"}], task="codegen_alignment.function")
    keys = {llm._key(llm._resolve(request)) for llm in coders}
    assert len(keys) == 2  # plain_alt's reply is its own, never plain's counted twice
