"""The sim teacher's whole constraint space, what it reads and writes: catalogue.py's templates widened and the new
families (catalogue_wide.py), their two-part combinations (catalogue_combos.py), and uncheckable lines of many
kinds. Sized for the real case: 400 augment calls of ~50 lines give ~17k distinct constraints after the
constraints stage's deduplication, as the original's did (benchmarks/autoif_scale); catalogue.py alone gives ~2k.

It answers what catalogue.py answers (parse_constraint, parse_code, state, code_for, TEMPLATES, BY_NAME...) over the
whole space; names it does not define are catalogue.py's. Reading is indexed by a text's first word and cached,
because the sim reads the same constraint for every verifier, probe and response it writes.
"""

from __future__ import annotations

import random
import re
import string
from functools import cache, lru_cache
from typing import Any

from sims.autoif import catalogue as _base
from sims.autoif.catalogue import Params, Template, code_for, state
from sims.autoif.catalogue_combos import CODE_SHAPE, CONNECTORS, SUFFIX, combinations, join_params
from sims.autoif.catalogue_wide import FAMILIES, OPTIONS, widened

TEMPLATES: tuple[Template, ...] = tuple(widened(t) for t in _base.TEMPLATES) + FAMILIES  # one part each
COMBOS: dict[str, Template] = combinations({t.name: t for t in TEMPLATES})
BY_NAME: dict[str, Template] = {t.name: t for t in TEMPLATES} | COMBOS
COMBO_SHARE = 0.75  # of the new lines the sim writes: two-part constraints


def _variety(template: Template) -> int:
    """How many different texts of a template 100 draws give: a model writing thousands of lines varies numbers
    and words, and writes a rule with little to vary ("no commas") as often as its few wordings allow."""
    rng = random.Random(template.name)
    return len({state(template, template.draw(rng), rng) for _ in range(100)})


def _param_variety(template: Template) -> int:
    """How many different parameter sets 50 draws give: a pair's wordings differ by little more than a
    connector, so a pair drawn twice with the same parameters is a near duplicate, whatever its wording."""
    rng = random.Random(template.name)
    return len({tuple(sorted(template.draw(rng).items())) for _ in range(50)})


WEIGHTS = [_variety(t) for t in TEMPLATES]
COMBO_WEIGHTS = [_param_variety(t) for t in COMBOS.values()]
_COMBO_LIST = list(COMBOS.values())

_TONES = ("warm", "friendly", "formal", "playful", "serious", "calm", "enthusiastic", "humble", "witty", "gentle",
          "confident", "sincere", "cheerful", "thoughtful", "dramatic", "nostalgic", "hopeful", "curious")
_PERSONAS = ("a pirate", "a detective", "a tour guide", "a chef", "a medieval knight", "a sports commentator",
             "a kindergarten teacher", "a news anchor", "a wise grandparent", "a robot", "a poet", "a coach")
_QUALITIES = ("persuasive", "funny", "inspiring", "memorable", "original", "engaging", "balanced", "vivid",
              "heartfelt", "insightful", "practical", "convincing")
_THINGS = ("a metaphor about the sea", "a famous quote", "a historical anecdote", "a personal story",
           "a surprising statistic", "a rhetorical question", "a short joke", "a vivid description of a place",
           "a comparison with everyday life", "an example from sports", "a lesson learned", "a common misconception",
           "a practical tip", "a word of encouragement", "a counterargument", "a reference to a classic novel",
           "an analogy from cooking", "a brief summary at the end", "a call to action", "a note of caution",
           "a childhood memory", "an unexpected twist", "a sensory detail", "a moral", "a quick checklist")
_FORMS = ("a letter to a friend", "a diary entry", "a dialogue between two people", "a news report",
          "a product review", "a speech", "a fairy tale", "a travel guide", "a recipe", "a podcast script",
          "a motivational talk", "a scientific explanation", "an advertisement", "a bedtime story", "an interview")
_AUDIENCES = ("a beginner", "a busy parent", "a retired teacher", "a curious child", "an expert", "a tourist",
              "a skeptical reader", "a new employee", "a student", "a grandparent")
# lines no function of the text can check, as a model asked for thousands writes them: tones, personas, contents
UNVERIFIABLE: tuple[str, ...] = _base.UNVERIFIABLE + tuple(
    f"Write in a {tone} tone." for tone in _TONES) + tuple(
    f"Respond as if you were {persona}." for persona in _PERSONAS) + tuple(
    f"Make your answer {quality} and {other}." for quality in _QUALITIES for other in _QUALITIES
    if quality != other) + tuple(
    f"{verb} {thing}." for verb in ("Include", "Weave in", "End with", "Open with") for thing in _THINGS) + tuple(
    f"Write it as {form} for {audience}." for form in _FORMS for audience in _AUDIENCES) + tuple(
    f"Use a {tone} tone, as {persona} would." for tone in _TONES for persona in _PERSONAS)


def draw_template(rng: random.Random) -> Template:
    """The kind of constraint the sim writes as a new line."""
    if rng.random() < COMBO_SHARE:
        return rng.choices(_COMBO_LIST, weights=COMBO_WEIGHTS)[0]
    return rng.choices(TEMPLATES, weights=WEIGHTS)[0]


# ------------------------------------------------------------------------------------------------ reading text

_FIELD = {"n": r"\d+", "m": r"\d+", "w1": r"[A-Za-z']+", "w2": r"[A-Za-z']+", "w3": r"[A-Za-z']+",
          "letter": r"[a-z]", "phrase": r"[^\"']+?", "marker": r"[A-Za-z.]+?", "ord": r"\d+(?:st|nd|rd|th)",
          "options": re.escape(OPTIONS[0])}
_INTS = ("n", "m")


def _pattern(fmt: str) -> re.Pattern:
    out, seen = [], set()
    for literal, field, _spec, _conv in string.Formatter().parse(fmt):
        out.append(re.escape(literal))
        if field:
            out.append(f"(?P={field})" if field in seen else f"(?P<{field}>{_FIELD[field.removesuffix(SUFFIX)]})")
            seen.add(field)
    return re.compile(r"\s*" + "".join(out) + r"\s*", re.DOTALL)


def _normalise_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _first_word(text: str) -> str:
    return text.split(" ", 1)[0].lower()


@cache
def _phrasing_index() -> dict[str, list[tuple[Template, re.Pattern]]]:
    """Patterns of every one-part phrasing by their first word, in catalogue order (earlier wins)."""
    index: dict[str, list[tuple[Template, re.Pattern]]] = {}
    for t in TEMPLATES:
        for p in t.phrasings:
            index.setdefault(_first_word(_normalise_ws(p)), []).append((t, _pattern(_normalise_ws(p))))
    return index


@cache
def _code_patterns() -> list[tuple[Template, re.Pattern]]:
    return [(t, _pattern(t.code)) for t in TEMPLATES]


def _params_of(match: re.Match) -> Params:
    return {k: int(v) if k.removesuffix(SUFFIX) in _INTS else v for k, v in match.groupdict().items()}


def _parse_one(norm: str) -> tuple[Template, Params] | None:
    for t, pattern in _phrasing_index().get(_first_word(norm), ()):
        if m := pattern.fullmatch(norm):
            params = _params_of(m)
            if t.name == "postscript" and params["marker"] not in _base.PS_MARKERS:
                continue
            return t, params
    return None


_CUT = re.compile(r" (?=[A-Z])")  # where a second part may start: its first word keeps its capital
_CONNECTOR = re.compile("|".join(re.escape(c) for c in CONNECTORS if c))


@lru_cache(maxsize=1 << 16)
def parse_constraint(text: str) -> tuple[Template, Params] | None:
    """The template and params a constraint's text states, or None when the space does not know it."""
    norm = _normalise_ws(text)
    if (one := _parse_one(norm)) is not None:
        return one
    for cut in _CUT.finditer(norm):
        first = _parse_one(norm[: cut.start()])
        if first is None:
            continue
        rest = norm[cut.end():]
        if connector := _CONNECTOR.match(rest):
            rest = rest[connector.end():]
        second = _parse_one(rest[:1].upper() + rest[1:])
        if second is not None and (combo := COMBOS.get(f"{first[0].name}+{second[0].name}")) is not None:
            return combo, join_params(first[1], second[1])
    return None


def _parse_one_code(code: str) -> tuple[Template, Params] | None:
    for t, pattern in _code_patterns():
        if m := pattern.fullmatch(code):
            return t, _params_of(m)
    return None


def _part_code(body: str) -> tuple[Template, Params] | None:
    for head in ("", "import re\n\n", "import json\n\n"):
        if (found := _parse_one_code(f"{head}def evaluate(response):\n{body}\n")) is not None:
            return found
    return None


@lru_cache(maxsize=1 << 14)
def parse_code(code: str) -> tuple[Template, Params] | None:
    """The template and params a verifier's source implements, when it is one of the space's checkers."""
    body = code.strip("\n") + "\n"
    if (one := _parse_one_code(body)) is not None:
        return one
    if (m := CODE_SHAPE.fullmatch(body)) is None:
        return None
    first, second = _part_code(m.group("a")), _part_code(m.group("b"))
    if first is None or second is None or (combo := COMBOS.get(f"{first[0].name}+{second[0].name}")) is None:
        return None
    return combo, join_params(first[1], second[1])


def __getattr__(name: str) -> Any:  # the rest of catalogue.py (prose, KEYWORDS, topic_words...) as it is
    return getattr(_base, name)


__all__ = ["BY_NAME", "COMBOS", "TEMPLATES", "UNVERIFIABLE", "code_for", "draw_template", "parse_code",
           "parse_constraint", "state"]
