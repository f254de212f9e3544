"""What a Python stage gets besides its inputs and params: models, the sandbox, a seeded RNG, progress."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from engine.graph import sha256

if TYPE_CHECKING:
    from engine.llm import LLM
    from engine.sandbox import Sandbox


STAGING = ".stage_files"  # in the run directory: files stages are writing, until the engine takes them


def staging_dir(run_dir: Path, stage: str, iteration: int | None) -> Path:
    return run_dir / STAGING / (stage if iteration is None else f"{stage}.{iteration}")


class StageError(Exception):
    """A stage failed; the message names the stage (and the row, where one row is to blame)."""

    def __init__(self, stage: str, message: str):
        super().__init__(f"stage {stage!r} failed: {message}")
        self.stage = stage


@dataclass
class Context:
    stage: str
    iteration: int | None
    seed: int
    run_dir: Path
    project_root: Path
    roles: list[str]
    uses_sandbox: bool
    show_progress: bool
    make_llm: Callable[[str, str], LLM]
    get_sandbox: Callable[[], Sandbox]
    rng: random.Random = field(init=False)
    _llms: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(sha256(f"{self.seed}:{self.stage}:{self.iteration}"))

    def llm(self, role: str) -> LLM:
        if role not in self.roles:
            raise StageError(self.stage, f"calls model role {role!r} but its config declares llm: {self.roles}; "
                             "declare every role a stage uses, so its fingerprint covers the model")
        if role not in self._llms:
            self._llms[role] = self.make_llm(self.stage, role)
        return self._llms[role]

    @property
    def sandbox(self) -> Sandbox:
        if not self.uses_sandbox:
            raise StageError(self.stage, "uses the sandbox but its config does not say sandbox: true")
        return self.get_sandbox()

    def output_path(self, relative: str) -> Path:
        """Where to write a file that is a product of the run, e.g. "exports/autoif_dpo.jsonl" (relative to the run
        directory). The engine keeps it with the stage's rows (engine.products): a run that reuses the stage, in
        any directory, writes the same file, and a stage that fails leaves none."""
        parts = Path(relative).parts
        if not parts or Path(relative).is_absolute() or ".." in parts or parts[0] == STAGING:
            raise StageError(self.stage, f"output_path takes a path inside the run directory, found {relative!r}")
        path = staging_dir(self.run_dir, self.stage, self.iteration) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def progress(self, iterable: Iterable, total: int | None = None, desc: str | None = None) -> Iterable:
        return tqdm(iterable, total=total, desc=desc or self.stage, disable=not self.show_progress,
                    file=sys.stderr, leave=False, dynamic_ncols=True)
