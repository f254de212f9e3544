"""The role config schema: the config group files validate, wrong keys fail with the key's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from engine.llm import LLMConfigError, make_llm
from engine.llm.config import load_config

CONF = Path(__file__).resolve().parents[2] / "conf" / "llm"


@pytest.mark.parametrize("name", ["sim", "openai", "hf"])
def test_config_group_files_share_one_schema(name):
    node = OmegaConf.load(CONF / f"{name}.yaml")
    if name == "hf":
        node.model = "/models/tiny"  # mandatory (???) in the file
    assert load_config(node).backend == name


@pytest.mark.parametrize(
    ("cfg", "named"),
    [
        ({"max_in_fligth": 4}, "llm.max_in_fligth: Extra inputs are not permitted"),
        ({"max_in_flight": 0}, "llm.max_in_flight: Input should be greater than or equal to 1"),
        ({"cache": "sometimes"}, "llm.cache: Input should be 'readwrite', 'readonly' or 'off'"),
        ({"hf": {"devise": "cpu"}}, "llm.hf.devise"),
        ({"sampling": {"temperature": 5}}, "llm.sampling.temperature"),
        ({"prices": {"m": {"input": 1}}}, "llm.prices.m.output: Field required"),
        ({"sim": {"generic": 0.5}}, "sim.generic must be a mapping"),
        ({"backend": "hf", "model": "???"}, "llm.model"),
    ],
)
def test_wrong_keys_and_values_are_named(cfg, named):
    with pytest.raises(LLMConfigError) as err:
        load_config(cfg)
    assert named in str(err.value)


def test_the_role_is_named_in_errors(tmp_path):
    with pytest.raises(LLMConfigError, match="roles.judge.bogus"):
        make_llm({"bogus": 1}, stage="s", role="judge", cache_dir=tmp_path, ledger=[], truth=[])


def test_openai_without_a_key_says_where_to_put_one(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        make_llm({"backend": "openai"}, stage="s", role="r", cache_dir=tmp_path, ledger=[], truth=[])
