"""Prompt templates: text files with `{name}` placeholders (`{{` and `}}` for literal braces), the one template
syntax of every experiment.

A stage's params name their templates with `TemplatePath(required=..., optional=...)`: the engine validates params
when it builds the graph, so a placeholder the stage does not fill (a typo) or one it needs that the file lacks is
an error at start-up naming the file and the placeholder, never half a prompt sent to a paying endpoint.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from engine.config import PROJECT_ROOT


class TemplateError(ValueError):
    """A template that does not fit the names its stage fills (or cannot be read)."""


def placeholders(text: str, source: str) -> frozenset[str]:
    """The `{name}` placeholders of a template text; `source` names it in errors (a file, a config key)."""
    names = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:  # a lone "{" or "}"
        raise TemplateError(f"{source}: {err} (write a literal brace as {{{{ or }}}})") from err
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        # only bare names: attribute or index access ({x.y}, {x[0]}) would reach into the values' objects
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"{source}: placeholder {{{name}{'!' + conversion if conversion else ''}"
                                f"{':' + spec if spec else ''}}} is not a plain {{name}}")
        names.add(name)
    return frozenset(names)


def check_placeholders(text: str, source: str, required: Iterable[str] = (),
                       optional: Iterable[str] = ()) -> frozenset[str]:
    """The template's placeholders, after checking each is one the stage fills and every required one is there."""
    required, allowed = set(required), set(required) | set(optional)
    found = placeholders(text, source)
    if unknown := sorted(found - allowed):
        raise TemplateError(f"{source}: unknown placeholder {{{unknown[0]}}}; this template may use "
                            + ", ".join(f"{{{n}}}" for n in sorted(allowed)))
    if missing := sorted(required - found):
        raise TemplateError(f"{source}: placeholder {{{missing[0]}}} is missing; this template must use "
                            + ", ".join(f"{{{n}}}" for n in sorted(required)))
    return found


def fill(text: str, source: str, /, **values: object) -> str:
    """The template text with its placeholders filled; a placeholder without a value is an error naming it.
    Values are inserted as they are (braces in them stay literal)."""
    if absent := sorted(placeholders(text, source) - set(values)):
        raise TemplateError(f"{source}: no value for placeholder {{{absent[0]}}}")
    return text.format_map(values)


def resolve(path: str | Path, root: Path = PROJECT_ROOT) -> Path:
    """A template path as config gives it: relative to the project root, or absolute."""
    return root / path


@dataclass(frozen=True)
class PromptTemplate:
    path: str  # as the config names it
    text: str

    def render(self, /, **values: object) -> str:
        return fill(self.text, self.path, **values)


def read_template(path: str | Path, root: Path = PROJECT_ROOT) -> PromptTemplate:
    """The template at `path` (relative to `root`, or absolute)."""
    try:
        return PromptTemplate(str(path), resolve(path, root).read_text())
    except OSError as err:
        raise TemplateError(f"cannot read prompt template {path}: {err.strerror or err}") from err


def _checked(path: str, required: frozenset[str], optional: frozenset[str]) -> str:
    check_placeholders(read_template(path).text, path, required, optional)
    return path


def TemplatePath(required: Iterable[str] = (), optional: Iterable[str] = ()) -> type[str]:  # noqa: N802 (a type)
    """A params field holding a template path, checked at validation against the placeholders its stage fills.
    The value stays the path (a string): the fingerprint hashes the file's content."""
    check = partial(_checked, required=frozenset(required), optional=frozenset(optional))
    return Annotated[str, AfterValidator(check)]  # type: ignore[return-value]
