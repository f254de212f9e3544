"""The deterministic checker: a sentence splitter for model-written text and the acrostic principle built on it.

A sentence ends at `.`, `!`, `?` or an ellipsis (closing quotes and brackets included) when whitespace and a
capital letter, a digit, an opening quote or markup follow; a lower-case continuation ("wait... then") does not
end one. Not ends: decimals and dotted names ("3.5", "example.com"), abbreviations that never close a sentence
("e.g.", "i.e.", "Dr.", "vs.", "No. 5"), initials ("J. K. Rowling") and dotted acronyms ("U.S."). Text is read
as markdown: fenced code blocks are not prose and are skipped; inline code is one word; headings, list items,
table rows and paragraphs are units of their own; a line without closing punctuation followed by a capitalised
line ("Brazil\\nArgentina") is one too, while a line ending in a comma runs on (poems, wrapped prose).
A sentence's initial is the first letter or digit after markup, quotes and brackets, accents removed
("**Über**" -> U); a sentence with neither gives "?".
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# abbreviations that never end a sentence, whatever follows (compared lower-case, without the final dot)
NEVER_FINAL = {"e.g", "i.e", "cf", "vs", "viz", "approx", "dr", "mr", "mrs", "ms", "prof", "st", "mt", "jr", "sr",
               "fig", "figs", "eq", "ca", "resp", "al", "gen", "capt", "lt", "col", "sgt", "rev", "hon", "gov",
               "sen", "rep", "dept", "univ", "no"}
_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$\n?", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"^[ \t]*(```|~~~).*\Z", re.DOTALL | re.MULTILINE)  # a fence a cut reply left open
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_LIST_ITEM = re.compile(r"^\s{0,8}(?:[-*+\u2022]|\d{1,3}[.)]|[a-z][.)](?=\s)|[A-Z]\)(?=\s))\s+")  # not "J. K. Rowling"
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_QUOTE_MARK = re.compile(r"^\s{0,3}(?:>\s?)+")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|?[\s:|-]+\|[\s:|-]*$")  # horizontal rules, table separators
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
# candidate sentence ends: terminal punctuation, then closing quotes/brackets/markup, then whitespace
_END = re.compile(r"(?:[.!?\u2026]+)[\"'\u201d\u2019)\]*_]*(?=\s)")
_RUNS_ON = (",", ";", ":", "-", "\u2013", "\u2014", "(", "&", "/")


def _strip_markup(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    for _ in range(2):  # nested emphasis: ***bold italic***, **_x_**
        line = _EMPHASIS.sub(r"\2", line)
    return line


def _units(text: str) -> list[str]:
    """Blocks of prose that sentences cannot cross: paragraphs, list items, headings, table rows, and lines
    that end without punctuation before a capitalised line. Code is removed; inline code loses its dots."""
    text = _FENCE.sub("\n\n", text.replace("\r\n", "\n"))
    text = _OPEN_FENCE.sub("", text)
    text = _INLINE_CODE.sub(lambda m: m.group(1).replace(".", "\u2024").replace("!", "\u01c3").replace("?", "\u0294"),
                            text)
    units: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            units.append(" ".join(current))
            current.clear()

    for raw in text.split("\n"):
        if not raw.strip() or _RULE.match(raw):
            close()
            continue
        line = _QUOTE_MARK.sub("", raw)
        starts_block = bool(_LIST_ITEM.match(line) or _HEADING.match(line) or line.lstrip().startswith("|"))
        if starts_block:
            close()
            line = _LIST_ITEM.sub("", _HEADING.sub("", line), count=1).strip().strip("|").strip()
        line = _strip_markup(line.strip())
        if current and not starts_block:
            previous = current[-1]
            first = line.lstrip("\"'\u201c\u2018([*_")[:1]
            if not previous.endswith(_RUNS_ON) and not re.search(r"[.!?\u2026][\"'\u201d\u2019)\]]*$", previous) \
                    and (first.isupper() or first.isdigit()):
                close()  # "Brazil\nArgentina": a line without closing punctuation, then a new capitalised one
        current.append(line)
        if starts_block and _HEADING.match(raw):
            close()  # a heading is a unit of its own even without punctuation
    close()
    return units


def _word_before(text: str, end: int) -> str:
    """The token that the punctuation at `end` closes ("e.g" for "... e.g. Paris")."""
    match = re.search(r"(\S+)$", text[:end])
    return match.group(1).lstrip("\"'\u201c\u2018([*_") if match else ""


def _is_boundary(unit: str, start: int, end: int) -> bool:
    """Whether the punctuation run unit[start:end] ends a sentence, judging by what is before and after it."""
    after = unit[end:].lstrip()
    if not after:
        return True
    nxt = after[0]
    if after[0].islower() or after[0] in ",;:":
        return False  # "wait... then", "e.g. the", "approx. three"
    if unit[start] != ".":
        return True
    word = _word_before(unit, start)
    low = word.lower()
    if low in NEVER_FINAL and not (low == "no" and not nxt.isdigit()):
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):  # dotted acronyms: U.S., e.g. written E.g
        return low in ("a.m", "p.m")
    if re.fullmatch(r"[A-Z]", word):  # an initial, when next to another: "J. K. Rowling"
        next_word = after.split(maxsplit=1)[0]
        before = unit[: start - 1].rstrip().rsplit(maxsplit=1)
        return not (re.fullmatch(r"[A-Z]\.", next_word) or (before and re.fullmatch(r"[A-Z]\.", before[-1])))
    return True


def sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, each stripped; markdown is read as described in the module docstring."""
    out: list[str] = []
    for unit in _units(text):
        begin = 0
        for match in _END.finditer(unit):
            if _is_boundary(unit, match.start(), match.end()):
                piece = unit[begin:match.end()].strip()
                if piece:
                    out.append(piece)
                begin = match.end()
        rest = unit[begin:].strip()
        if rest:
            out.append(rest)
    return [s for s in out if re.search(r"\w", s)]


def initial(sentence: str) -> str:
    """The sentence's first letter (upper-case, accent removed) or digit; "?" when it has neither."""
    for char in sentence:
        if char.isalnum():
            base = unicodedata.normalize("NFKD", char)[0]
            return base.upper()
    return "?"


def initials(text: str) -> str:
    return "".join(initial(s) for s in sentences(text))


class Check(NamedTuple):
    """A checker's verdict on one text, and what it observed (for the acrostic: the letters produced)."""

    passed: bool
    observed: str


def acrostic_check(text: str, target: str) -> Check:
    """The principle "the sentences' first letters, in order, spell `target`" (case-insensitive)."""
    letters = initials(text)
    return Check(letters == target.upper(), letters)
