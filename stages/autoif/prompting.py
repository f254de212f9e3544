"""Prompt templates (stages/autoif/prompts/*.txt, `$name` placeholders) and the model fields every row keeps."""

from __future__ import annotations

import string
from pathlib import Path

from engine.llm import Response


def render(project_root: Path, path: str, **values: str) -> str:
    """The template at `path` (relative to the project root) with its `$placeholders` filled; a missing value
    is an error naming it, so a renamed placeholder cannot send half a prompt."""
    return string.Template((project_root / path).read_text()).substitute(values)


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def model_fields(response: Response) -> dict:
    """What a row keeps of the reply it came from: the cache key (reports join sim_truth on it) and whether
    the simulated teacher wrote it."""
    return {"llm_key": response.key, "simulated": response.simulated}
