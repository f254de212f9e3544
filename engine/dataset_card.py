"""The dataset card of a run's Hugging Face dataset: exports/hf/README.md in the Hub's card format, written at the end
of a finished run whose stages wrote exports/hf/ (engine.hf_dataset).

    ---                       YAML header the Hub reads: pretty_name, license, size_categories, task_categories,
    configs: ...              tags, `configs` (each config's splits and their arrow files, so `load_dataset` and the
    dataset_info: ...         Hub's viewer read exactly what load_from_disk reads) and `dataset_info` (features,
    ---                       rows per split)
    # what made it            experiment, models per role, the funnel with rejection reasons, filter quality,
                              the experiment's config, the engine version, the lineage fields

Everything in it comes from the rows and the config, nothing from timings or the cache, so a rerun that reuses
every stage writes the same card. A card is written to be published: no file path of the machine that made it
(a local model's directory, a seed file) appears in it, only the part of the path that names the thing
(`public_path`).
"""

from __future__ import annotations

import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from engine.fingerprint import ENGINE_VERSION
from engine.hf_dataset import HF_DIR

CARD = "README.md"
STANDARD_SECTIONS = {"experiment", "status", "error", "stages", "llm", "sandbox", "seconds", "loops"}
SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
         (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]


# an absolute path as a value or inside one: /x/y or ~/x (up to whitespace, a quote or a closing bracket)
_ABSOLUTE = re.compile(r"(?<![\w.:/~])(?:~/|/)(?=[\w.~-])[^\s'\"`)\]]*")


def public_path(text: str) -> str:
    """`text` with each absolute path replaced by what names the thing without the machine: a path inside the
    project relative to it, any other by its last part (a model directory's name, a file's name)."""
    from engine.config import PROJECT_ROOT

    def replace(match: re.Match) -> str:
        path = match.group(0)
        full = os.path.expanduser(path)
        try:
            return Path(full).resolve().relative_to(PROJECT_ROOT).as_posix()
        except ValueError:
            return Path(full).name or path
    return _ABSOLUTE.sub(replace, text)


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZES if rows < limit), "n>100M")


def write_card(run_dir: Path, summary: dict, config: Any, roles: dict[str, dict]) -> Path | None:
    """Write exports/hf/README.md for a finished run; None when no stage wrote a Hugging Face dataset."""
    folder = run_dir / HF_DIR
    if not (folder / "dataset_dict.json").is_file():
        return None
    import datasets

    parts = datasets.load_from_disk(str(folder))
    path = folder / CARD
    path.write_text(card_text(parts, summary, config, roles))
    return path


def _configs(parts: Any) -> dict[str, list[tuple[str, str, Any]]]:
    """config name -> [(folder, split, Dataset)] in the DatasetDict's order."""
    configs: dict[str, list[tuple[str, str, Any]]] = {}
    for folder, ds in parts.items():
        configs.setdefault(ds.info.config_name or "default", []).append((folder, str(ds.split or "train"), ds))
    return configs


def header(parts: Any, summary: dict) -> dict:
    configs = _configs(parts)
    licenses = {ds.info.license for ds in parts.values()}
    rows = sum(ds.num_rows for ds in parts.values())
    return {
        "pretty_name": f"execfeed {summary['experiment']}",
        "license": licenses.pop() if len(licenses) == 1 else "other",
        "size_categories": [size_category(rows)],
        "task_categories": ["text-generation"],
        "tags": ["synthetic", "execfeed", summary["experiment"]],
        "configs": [{"config_name": name, "data_files": [{"split": split, "path": f"{folder}/data-*.arrow"}
                                                         for folder, split, _ in splits]}
                    for name, splits in configs.items()],
        # the Hub's YAML form of the features (datasets writes it so when it pushes a dataset itself)
        "dataset_info": [{"config_name": name, "features": splits[0][2].features._to_yaml_list(),
                          "splits": [{"name": split, "num_bytes": ds.data.nbytes, "num_examples": ds.num_rows}
                                     for _, split, ds in splits]}
                         for name, splits in configs.items()],
    }


def card_text(parts: Any, summary: dict, config: Any, roles: dict[str, dict]) -> str:
    head = header(parts, summary)
    experiment = summary["experiment"]
    body = [f"# {head['pretty_name']}", "",
            f"Made by the `{experiment}` experiment of execfeed (`python -m engine +experiment={experiment}`), an "
            "execution-feedback data engine: model-written data kept only where code, run in a sandbox, or a judge "
            "says it holds.", ""]
    simulated = _simulated(parts)
    if simulated:
        body += [f"**{simulated} of {sum(ds.num_rows for ds in parts.values())} rows were written by execfeed's "
                 "simulated teacher** (test equipment standing in for a model, `simulated: true`): they show the "
                 "format, not a model's data.", ""]
    body += _data_section(parts), _models_section(roles), _funnel_section(summary)
    body += _report_sections(summary)
    body += _config_section(config, experiment), _engine_section()
    return "---\n" + yaml.safe_dump(head, sort_keys=False, allow_unicode=True) + "---\n\n" + "\n".join(body) + "\n"


def _simulated(parts: Any) -> int:
    return sum(sum(ds["simulated"]) for ds in parts.values() if "simulated" in ds.column_names)


def _data_section(parts: Any) -> str:
    lines = ["## Data", "", "| config | split | rows | columns |", "| --- | --- | ---: | --- |"]
    lines += [f"| {name} | {split} | {ds.num_rows} | {', '.join(f'`{c}`' for c in ds.column_names)} |"
              for name, splits in _configs(parts).items() for _, split, ds in splits]
    lines += [""]
    for name, splits in _configs(parts).items():
        if splits[0][2].info.description:
            lines += [f"`{name}`: {splits[0][2].info.description}", ""]
    config, splits = next(iter(_configs(parts).items()))
    folder, split, _ = splits[0]
    lines += ["Lineage: every row keeps the ids of the rows it came from (above), so it can be traced back to its "
              "seed in the run's `run.duckdb`.", "",
              "```python", "from datasets import load_dataset, load_from_disk",
              f'load_dataset("ORG/NAME", "{config}", split="{split}")  # from the Hub',
              f'load_from_disk("exports/hf")["{folder}"]  # from the run directory', "```", ""]
    return "\n".join(lines)


def _models_section(roles: dict[str, dict]) -> str:
    lines = ["## Models", "", "| role | backend | model | mode | temperature |", "| --- | --- | --- | --- | ---: |"]
    for role, cfg in sorted(roles.items()):
        temperature = (cfg.get("sampling") or {}).get("temperature")
        lines.append(f"| {role} | {cfg.get('backend', 'sim')} | {public_path(str(cfg.get('model', '')))} "
                     f"| {cfg.get('mode', 'online')} | {'' if temperature is None else temperature} |")
    return "\n".join(lines + [""])


def _funnel_section(summary: dict) -> str:
    lines = ["## Funnel", "", "Rows in and out of every stage, and why rows were rejected.", "",
             "| stage | rows in | rows out | rejected |", "| --- | ---: | ---: | --- |"]
    for name, s in summary["stages"].items():
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(s["rejected"].items(), key=lambda x: -x[1]))
        lines.append(f"| {name} | {s['rows_in']} | {s['rows_out']} | {reasons or '-'} |")
    return "\n".join(lines + [""])


def _report_sections(summary: dict) -> list[str]:
    """The experiment's own report (AutoIF: filter_quality, threshold_curves): a table per level of scalars."""
    out = []
    for section, value in summary.items():
        if section in STANDARD_SECTIONS or not isinstance(value, dict):
            continue
        title = "Filter quality" if section == "filter_quality" else section.replace("_", " ").capitalize()
        out += [f"## {title}", "", *_tables(value), ""]
    return out


def _tables(value: dict, prefix: str = "") -> list[str]:
    """Rows of scalars as one table; what nests deeper under its own heading line."""
    rows = {k: v for k, v in value.items() if isinstance(v, dict) and all(not isinstance(x, dict) for x in v.values())}
    lines = []
    if rows:
        columns = list(dict.fromkeys(c for v in rows.values() for c in v))
        lines += [f"| {prefix or ' '} | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
        lines += [f"| {k} | " + " | ".join(_cell(v.get(c)) for c in columns) + " |" for k, v in rows.items()]
        lines.append("")
    scalars = {k: v for k, v in value.items() if not isinstance(v, dict)}
    if scalars:
        lines += [", ".join(f"{k}: {_cell(v)}" for k, v in scalars.items()), ""]
    for k, v in value.items():
        if isinstance(v, dict) and k not in rows:
            lines += [f"**{prefix + '.' if prefix else ''}{k}**", "", *_tables(v, k)]
    return lines


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _config_section(config: Any, experiment: str) -> str:
    dumped = config.model_dump()
    own = {"seed": dumped.get("seed"), experiment: dumped.get(experiment)} if dumped.get(experiment) else \
        {"seed": dumped.get("seed"), "stages": {n: s.get("params") for n, s in dumped["stages"].items()
                                               if s.get("params")}}
    return "\n".join(["## Config", "", f"The experiment's settings (`conf/experiment/{experiment}.yaml` with the "
                      "run's overrides):", "", "```yaml",
                      public_path(yaml.safe_dump(own, sort_keys=False, allow_unicode=True).rstrip()), "```", ""])


def _engine_section() -> str:
    try:
        version = metadata.version("execfeed")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return "\n".join(["## Engine", "", f"execfeed {version}, engine version {ENGINE_VERSION} (the version in every "
                      "stage's fingerprint).", ""])
