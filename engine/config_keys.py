"""Config keys in the user's terms: where an interpolated value was typed, which keys nothing reads, and the
nearest known key to a misspelt one.

Experiment blocks (`autoif:`, `prompt_opt:` ...) reach the stages only through interpolations such as
`${autoif.score_threshold}`, so the experiment file itself is their schema: a block key that no interpolation
reads is a typo (or a key added with `+` that would be silently ignored), and an error found in a stage
parameter belongs to the block key it was interpolated from.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

_PLAIN_REF = re.compile(r"^\$\{([A-Za-z_][\w.]*)\}$")  # a value that is exactly one other key
_REF_START = re.compile(r"\$\{([^${}:]*)")  # each reference's static part, up to `}` or a nested `${`
_KEY_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def did_you_mean(key: str, known: Iterable[str], deeper: dict[str, str] | None = None) -> str:
    """A hint for an unknown `key`: the nearest known key, else the nearest of `deeper` (leaf -> its dotted key
    one level down: `temperature` -> `sampling.temperature`), else the known keys."""
    known = sorted(set(known))
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    close = difflib.get_close_matches(key, sorted(deeper or {}), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{deeper[close[0]]}`?"
    return f"known keys: {', '.join(known)}" if known else "this block takes no keys"


def _parts(key: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _KEY_PART.findall(key)]


def _join(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _child(node: object, part: str | int) -> object | None:
    """`node`'s child `part` as written (interpolations unresolved), or None when there is none."""
    if not isinstance(node, (DictConfig, ListConfig)):
        return None
    try:
        return node._get_node(part)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OmegaConfBaseException):
        return None  # no such key (OmegaConf's struct mode raises its own errors for it)


def origin_of(raw: DictConfig, key: str) -> str | None:
    """The key the user typed for `key`, when `key` or one of its parents is a plain `${other.key}` interpolation
    (followed through chains of them, up to the last key that exists: `a=${nope}` is reported at `a`); None when
    the value was written where it is."""
    parts = _parts(key)
    node: object = raw
    for i, part in enumerate(parts):
        child = _child(node, part)
        if child is None:
            return None
        if OmegaConf.is_interpolation(node, part) and (m := _PLAIN_REF.match(str(child._value()))):
            typed = _join([*_parts(m[1]), *parts[i + 1:]])
            return origin_of(raw, typed) or (typed if _written(raw, typed) else None)
        node = child
    return None


def _written(raw: DictConfig, key: str) -> bool:
    """Whether `key` is in the config as written (past an interpolated parent it cannot tell, and says yes)."""
    node: object = raw
    for part in _parts(key):
        child = _child(node, part)
        if child is None:
            return False
        if OmegaConf.is_interpolation(node, part):
            return True
        node = child
    return True


def _raw_strings(node: DictConfig | ListConfig) -> Iterator[str]:
    items = node.items_ex(resolve=False) if isinstance(node, DictConfig) else enumerate(node._iter_ex(resolve=False))
    for _, value in items:
        if isinstance(value, (DictConfig, ListConfig)):
            yield from _raw_strings(value)
        elif isinstance(value, str) and "${" in value:
            yield value


def references(raw: DictConfig) -> set[str]:
    """Every key an interpolation reads, as far as it is fixed: `${a.b.${a.c}.d}` reads `a.c` and all of `a.b`."""
    return {m.rstrip(".") for s in _raw_strings(raw) for m in _REF_START.findall(s) if m.rstrip(".")}


def unread_keys(raw: DictConfig, block: str, refs: set[str]) -> list[tuple[str, list[str]]]:
    """(key, its sibling keys) for each key under `block` that no reference reads, whole or in part."""
    found: list[tuple[str, list[str]]] = []

    def visit(path: str, node: object) -> None:
        if any(path == r or path.startswith(r + ".") for r in refs):
            return
        if isinstance(node, DictConfig) and any(r.startswith(path + ".") for r in refs):
            siblings = [str(k) for k in node.keys()]
            for k in siblings:
                visit(f"{path}.{k}", node._get_node(k))
            return
        found.append((path, _siblings(raw, path)))

    visit(block, raw._get_node(block))
    return found


def _siblings(raw: DictConfig, key: str) -> list[str]:
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(raw, parent, throw_on_resolution_failure=False) if parent else raw
    return [str(k) for k in node.keys() if str(k) != leaf] if isinstance(node, DictConfig) else []


def aliases(experiment_file: Path, block: str) -> dict[str, str]:
    """{alias: the one name it sets} for the keys of an experiment's block that its file maps onto another key of
    the block: a key whose whole value is `${block.alias}` (AutoIF's `verifiers_per_constraint:
    ${autoif.funcs_per_constraint}` keeps the published name users type as a way to set the one name). An alias
    counts as read even when an override of the one name leaves nothing reading it: the user did not type the
    alias, so it is no typo."""
    if not experiment_file.is_file():
        return {}
    node = OmegaConf.load(experiment_file).get(block)
    if not isinstance(node, DictConfig):
        return {}
    found = {}
    for key in (str(k) for k in node.keys()):
        if OmegaConf.is_interpolation(node, key) and (m := _PLAIN_REF.match(str(node._get_node(key)._value()))):
            alias = m[1]
            if alias.startswith(block + ".") and "." not in alias[len(block) + 1:]:
                found[alias] = f"{block}.{key}"
    return found

