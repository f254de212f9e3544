"""Constraints of two parts, as models write them when asked for thousands of lines: a constraint of the catalogue
followed by an add-on (a postscript, a title, a phrase to start or end with, keywords, no commas...), e.g.
"Answer with at least 300 words. Also, do not use any commas in your response.". A combination is a Template like
any other (its text, its checker's source and its renderer are built from its parts'), so the sim teacher writes
verifiers, slips, cases, misreadings and responses for it unchanged; constraint_space.py reads one back by
splitting it into its parts.
"""

from __future__ import annotations

import random
import re
import string

from sims.autoif.catalogue import Params, Template

SUFFIX = "_b"  # the add-on's parameters, renamed so that both parts may have an {n}
CONNECTORS = ("", "Also, ", "In addition, ", "Moreover, ", "Furthermore, ", "Additionally, ")
# second parts: each adds to the text the first part wrote (a prefix, a suffix, a word) rather than rewriting it
ADDONS = ("postscript", "title", "end_phrase", "start_phrase", "no_comma", "keywords_two", "forbidden_words",
          "placeholders", "hashtags_min", "question_end", "bold_min", "no_digits", "keywords_three")
# first parts that are the whole shape of the text: nothing can be added to them
WHOLE_TEXT = ("json_format", "quotation", "lowercase", "uppercase", "options_answer", "responses_count")
# pairs whose parts cannot both hold, or whose add-on breaks the first part as written (an end phrase adds a
# sentence to an exact count, a start phrase pushes a section marker off its line): see the test that finds them
EXCLUDED: frozenset[tuple[str, str]] = frozenset(
    [(first, second) for first in ("end_phrase", "question_end", "sentences_exact")
     for second in ("postscript", "end_phrase", "keywords_two", "placeholders", "hashtags_min", "question_end",
                    "bold_min", "keywords_three")]
    + [(first, second) for first in ("nth_paragraph_first_word", "first_word", "start_phrase", "bullets_exact",
                                     "sections", "numbered_exact") for second in ("title", "start_phrase")]
    + [("nth_paragraph_first_word", "postscript"), ("nth_paragraph_first_word", "hashtags_min"),
       ("sections", "no_digits"), ("numbered_exact", "no_digits"), ("digits_min", "no_digits")]
    + [(first, second) for first in ("sentences_max", "sentences_at_most")
       for second in ("bold_min", "postscript", "end_phrase", "hashtags_min", "question_end")]
    + [("word_length_max", second) for second in ("hashtags_min", "end_phrase", "start_phrase", "keywords_two",
                                                   "keywords_three")]
    + [("forbidden_words", "hashtags_min"), ("hashtags_min", "forbidden_words"), ("words_max", "forbidden_words"),
       ("capital_words_max", "forbidden_words"), ("words_max", "keywords_three"), ("words_at_most", "bold_min"),
       ("chars_max", "bold_min"), ("capital_words_max", "keywords_two"), ("words_between", "bold_min"),
       ("capital_words_max", "keywords_three"), ("start_phrase", "forbidden_words"), ("words_between", "placeholders")])
_RETRIES = 20  # a text for both parts is drawn again when the add-on happened to break the first part


def rename(fmt: str) -> str:
    """A format string with every field renamed to its add-on name ({n} -> {n_b}); literal braces kept."""
    out = []
    for literal, field, spec, conv in string.Formatter().parse(fmt):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            out.append("{" + field + SUFFIX + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def split_params(p: Params) -> tuple[Params, Params]:
    first = {k: v for k, v in p.items() if not k.endswith(SUFFIX)}
    return first, {k[: -len(SUFFIX)]: v for k, v in p.items() if k.endswith(SUFFIX)}


def join_params(first: Params, second: Params) -> Params:
    return {**first, **{k + SUFFIX: v for k, v in second.items()}}


def _imports_and_body(code: str) -> tuple[list[str], str]:
    head, _, body = code.partition("def evaluate(response):\n")
    return [line for line in head.splitlines() if line.startswith("import ")], body.rstrip("\n")


def combined_code(first: str, second: str) -> str:
    """The checker of both parts: each part's check as a function of its own, the imports of both on top."""
    imports_a, body_a = _imports_and_body(first)
    imports_b, body_b = _imports_and_body(rename(second))
    imports = sorted(set(imports_a + imports_b))
    head = "\n".join(imports) + "\n\n" if imports else ""
    return f"{head}def first_rule(response):\n{body_a}\n\n\ndef second_rule(response):\n{body_b}\n\n\n" \
           "def evaluate(response):\n    return first_rule(response) and second_rule(response)\n"


CODE_SHAPE = re.compile(r"(?P<imports>(?:import \w+\n)*)\n*def first_rule\(response\):\n(?P<a>.*?)\n\n\n"
                        r"def second_rule\(response\):\n(?P<b>.*?)\n\n\ndef evaluate\(response\):\n"
                        r"    return first_rule\(response\) and second_rule\(response\)\n", re.DOTALL)


def combo_name(first: str, second: str) -> str:
    return f"{first}+{second}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def combine(a: Template, b: Template, misread_as: str | None) -> Template:
    def draw(rng: random.Random) -> Params:
        pa, pb = a.draw(rng), b.draw(rng)
        for _ in range(_RETRIES):  # a word both parts name ("use x", "never use x") would make them contradict
            if not {v for v in pa.values() if isinstance(v, str)} & {v for v in pb.values() if isinstance(v, str)}:
                break
            pb = b.draw(rng)
        return join_params(pa, pb)

    def check(text: str, p: Params) -> bool:
        pa, pb = split_params(p)
        return a.check(text, pa) and b.check(text, pb)

    def render(sents: list[str], p: Params, ok: bool, rng: random.Random) -> str:
        pa, pb = split_params(p)
        text = ""
        for _ in range(_RETRIES):
            ok_a, ok_b = (True, True) if ok else rng.choice([(False, True), (True, False), (False, False)])
            text = b.render([a.render(sents, pa, ok_a, rng)], pb, ok_b, rng)
            if check(text, p) is ok:
                break
        return text

    def perturb(p: Params, rng: random.Random) -> Params:
        pa, pb = split_params(p)
        if a.perturb is not None and (b.perturb is None or rng.random() < 0.5):
            return join_params(a.perturb(pa, rng), pb)
        return join_params(pa, b.perturb(pb, rng))

    def boundary(sents: list[str], p: Params, rng: random.Random) -> str:
        """The first part's boundary text with the add-on: it breaks the pair, though an add-on that adds to the
        count (words, sentences) puts it past the misreading's bound too."""
        pa, pb = split_params(p)
        for _ in range(_RETRIES):
            text = b.render([a.boundary(sents, pa, rng)], pb, True, rng)
            if a.check(text, pa) is False and b.check(text, pb):
                return text
        return render(sents, p, False, rng)  # the add-on moved the count back within bounds: a plain break

    phrasings = tuple(f"{pa} {connector}{_lower_first(pb) if connector else pb}" for pa in a.phrasings
                      for pb in map(rename, b.phrasings) for connector in CONNECTORS)
    return Template(combo_name(a.name, b.name), phrasings, combined_code(a.code, b.code), draw, check, render,
                    perturb if a.perturb is not None or b.perturb is not None else None,
                    misread_as=misread_as, boundary=boundary if a.boundary is not None else None)


def combinations(atomic: dict[str, Template]) -> dict[str, Template]:
    """Every (first part, add-on) pair not excluded; a pair whose first part has a misreading is misread as the
    pair of that misreading and the same add-on."""
    firsts = [t for name, t in atomic.items() if name not in WHOLE_TEXT]
    out: dict[str, Template] = {}
    for b in (atomic[name] for name in ADDONS):
        for a in firsts:
            if a.name == b.name or (a.name, b.name) in EXCLUDED:
                continue
            sibling = a.misread_as if a.misread_as and (a.misread_as, b.name) not in EXCLUDED else None
            out[combo_name(a.name, b.name)] = combine(a, b, combo_name(sibling, b.name) if sibling else None)
    return out
