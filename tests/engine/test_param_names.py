"""Every stage parameter takes the name of the block key it reads (docs/glossary.md), so an error about a parameter
names the key the user typed; the few set in the stage's config only are listed in the glossary."""

from __future__ import annotations

import fnmatch
import re

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from engine.config import PROJECT_ROOT

EXPERIMENTS = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "experiment").glob("*.yaml"))
WHOLE = re.compile(r"^\$\{(?P<path>.*)\}$")  # one interpolation and nothing else (it may nest: ${a.${b}.c})
ENGINE_ONLY_HEADING = "Stage parameters set in the stage's config only"


def engine_only_names() -> list[str]:
    """The glossary's list of parameters with no block key (patterns such as `*_template`)."""
    text = (PROJECT_ROOT / "docs" / "glossary.md").read_text()
    section = text.split(ENGINE_ONLY_HEADING, 1)[1].split("\n\n", 1)[0]
    return [n for line in section.splitlines() if line.startswith("- ") for n in re.findall(r"`([^`]+)`", line)
            if n.replace("*", "").replace("_", "").isalnum()]


def _key_read(value: object) -> str | None:
    """The last key of the block path a value interpolates as a whole (`${autoif.min_funcs}` -> min_funcs)."""
    match = WHOLE.match(value) if isinstance(value, str) else None
    return match["path"].rsplit(".", 1)[-1] if match and "}" not in match["path"].rsplit(".", 1)[-1] else None


def _params_of(stages: dict, where: str):
    """(config key of a params mapping, the mapping) for every stage and loop condition, loops included."""
    for name, spec in stages.items():
        if "loop" in spec:
            loop = spec["loop"]
            if "params" in (loop.get("until") or {}):
                yield f"{where}.{name}.loop.until.params", loop["until"]["params"]
            yield from _params_of(loop["stages"], f"{where}.{name}.loop.stages")
        if "params" in spec:
            yield f"{where}.{name}.params", spec["params"]


def param_name_problems(config: dict, engine_only: list[str]) -> list[str]:
    """One line per stage parameter named otherwise than the block key it reads, or set in config with no block
    key behind it and not listed as engine-only."""
    block = config["name"]
    problems = []
    for key, params in _params_of(config["stages"], "stages"):
        if isinstance(params, str):  # params: ${block.group}: the names are the block's keys by construction
            if not (WHOLE.match(params) and params.startswith(f"${{{block}.")):
                problems.append(f"{key}: {params!r} is not a mapping of the {block} block")
            continue
        for name, value in params.items():
            read = _key_read(value)
            if read is None:
                if not any(fnmatch.fnmatchcase(name, pattern) for pattern in engine_only):
                    problems.append(f"{key}.{name}: set here with no {block} key behind it, and not listed as "
                                    f"engine-only in docs/glossary.md")
            elif not value.startswith(f"${{{block}."):
                problems.append(f"{key}.{name}: reads {value}, outside the {block} block")
            elif read != name:
                problems.append(f"{key}.{name}: reads {value}; name the parameter {read}")
    return problems


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_stage_parameter_is_named_after_its_block_key(experiment):
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        config = OmegaConf.to_container(compose("config", overrides=[f"+experiment={experiment}"]), resolve=False)
    assert param_name_problems(config, engine_only_names()) == []


def test_a_renamed_parameter_and_an_unlisted_literal_are_reported():
    config = {"name": "x", "x": {"min_chars": 3, "limit": 2},
              "stages": {"a": {"params": {"min_chars": "${x.min_chars}", "bound": "${x.limit}", "prompt": "p.txt",
                                          "size": 4, "other": "${y.limit}"}},
                         "b": {"loop": {"until": {"params": {"n": "${x.limit}"}}, "stages": {}}}}}
    assert param_name_problems(config, ["prompt"]) == [
        "stages.a.params.bound: reads ${x.limit}; name the parameter limit",
        "stages.a.params.size: set here with no x key behind it, and not listed as engine-only in docs/glossary.md",
        "stages.a.params.other: reads ${y.limit}, outside the x block",
        "stages.b.loop.until.params.n: reads ${x.limit}; name the parameter limit"]


def test_the_glossary_lists_the_engine_only_parameters():
    assert {"prompt", "*_template", "max_tokens"} <= set(engine_only_names())
