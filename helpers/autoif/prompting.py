"""What every AutoIF model stage shares: its prompt template (stages/autoif/prompts/*.txt, read with
engine.prompt_template), the message list, and the model fields every row keeps."""

from __future__ import annotations

from pathlib import Path

from engine.llm import Response
from engine.prompt_template import read_template


def render(project_root: Path, path: str, /, **values: object) -> str:
    """The template at `path` (relative to the project root) with its placeholders filled; the stage's params
    checked them at start-up (TemplatePath), and a value missing here is still an error naming it."""
    return read_template(path, project_root).render(**values)


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def model_fields(response: Response) -> dict:
    """What a row keeps of the reply it came from: the cache key (reports join sim_truth on it) and whether
    the simulated teacher wrote it."""
    return {"llm_key": response.key, "simulated": response.simulated}
