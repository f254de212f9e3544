"""The sim teacher's knowledge of instruction constraints: a catalogue of templates, each with its phrasings, the
correct checker (as verifier source code and as a host-side function), how to draw parameters, how to write a text
that follows or breaks it, and how a model might get the parameters subtly wrong.

Only the simulated teacher (teacher.py) and sim reports use this module; the stages never do. Phrasings and
checker code are format strings: the same string writes a constraint and, turned into a regex, reads one back, so the
sim understands constraints and verifier code from their text alone, as a model would.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

Params = dict[str, object]

# ------------------------------------------------------------------------------------------------ text pieces

KEYWORDS = ("balance", "growth", "future", "community", "data", "energy", "river", "garden", "history", "window",
            "journey", "harvest", "signal", "market", "planet", "memory", "bridge", "island", "season", "engine",
            "forest", "ocean", "budget", "health", "science", "music", "letter", "travel", "winter", "silver",
            "pattern", "lesson", "friend", "kitchen", "story", "method", "simple", "careful", "bright", "steady")
RARE_LETTERS = ("z", "q", "j", "x")
END_PHRASES = ("Is there anything else I can help with?", "Let me know if you have additional questions.",
               "Hope this helps you today.", "That is all for now.", "Thank you for reading.",
               "Feel free to ask for more details.", "Any other questions?", "Have a wonderful day.")
START_PHRASES = ("Here is my answer:", "Sure thing:", "Great question:", "Let me explain:", "To answer briefly:",
                 "Here is what I think:", "In short:")
MARKERS = ("SECTION", "PARAGRAPH", "Section", "Part", "PART", "Step")
PS_MARKERS = ("P.S.", "P.P.S")
FILLER = ("it helps to start small and build a routine", "most people find that planning ahead saves time",
          "the details matter more than they first appear", "a steady approach usually works best",
          "it is worth checking the result after each step", "small changes add up over weeks",
          "asking an expert can save effort later", "the simplest option is often the right one",
          "keeping notes makes the next attempt easier", "patience pays off in the long run")
GENERIC = ("there are many things to consider in general", "different people have different opinions",
           "this is a common topic that comes up often", "it depends on the situation and other factors",
           "there is no single answer that fits every case", "some options are better than others",
           "general advice applies here as it does elsewhere", "it is important to think about it")


def words(text: str) -> list[str]:
    return text.split()


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?]+", text) if s.strip()]


def strip_letter(text: str, letter: str) -> str:
    return " ".join(w for w in text.split(" ") if letter not in w.lower())


def strip_words(text: str, banned: list[str]) -> str:
    banned_lower = {b.lower() for b in banned}
    return " ".join(w for w in text.split(" ") if re.sub(r"\W", "", w.lower()) not in banned_lower)


@lru_cache(maxsize=1 << 16)  # prose() cleans the same few thousand sentence bodies for every text it writes
def clean(text: str) -> str:
    """Plain prose with none of the features the templates count: no commas, brackets, asterisks, quotes,
    all-capital words or rare letters, so each template adds exactly what it needs."""
    text = re.sub(r"[,\[\]*\"<>{}#]", "", text)
    text = " ".join(w for w in text.split(" ") if not (w.isupper() and len(re.sub(r"\W", "", w)) >= 1))
    for letter in RARE_LETTERS:
        text = strip_letter(text, letter)
    return re.sub(r" +", " ", text).strip()


def prose(topic: list[str], rng: random.Random, n_sentences: int, on_topic: bool = True) -> list[str]:
    """Sentences about `topic` words (or generic filler when off topic), capitalised, ending with a full stop."""
    out = []
    for i in range(n_sentences):
        if on_topic and topic:
            subject = " ".join(rng.sample(topic, min(len(topic), rng.randint(1, 2))))
            body = f"when it comes to {subject} {rng.choice(FILLER)}"
        else:
            body = rng.choice(GENERIC)
        if i % 3 == 2:
            body = f"also {body}"
        s = clean(body)
        out.append(s[:1].upper() + s[1:] + ".")
    return out


def fit_words(sents: list[str], n: int) -> str:
    """Sentences joined, then repeated or cut to exactly `n` words (the last one closed with a full stop)."""
    text = " ".join(sents)
    while len(text.split()) < n:
        text += " " + " ".join(sents)
    cut = text.split()[:n]
    out = " ".join(cut)
    return out if out.endswith(".") else out + "."


# ------------------------------------------------------------------------------------------------ templates


@dataclass(frozen=True)
class Template:
    name: str
    phrasings: tuple[str, ...]  # format strings over the params
    code: str  # the correct checker, a format string over the params
    draw: Callable[[random.Random], Params]
    check: Callable[[str, Params], bool]
    render: Callable[[list[str], Params, bool, random.Random], str]  # sentences, params, comply, rng -> text
    perturb: Callable[[Params, random.Random], Params] | None = None  # subtly wrong params; None: no such slip
    # the template a model's shared misreading turns this one into ("fewer than" read as "at most"), and a text on
    # the boundary between them: it breaks this template and follows the misreading
    misread_as: str | None = None
    boundary: Callable[[list[str], Params, random.Random], str] | None = None


def _num(n: int, rng: random.Random, low: int = 1) -> int:
    """A nearby but different number: the slip a model makes when it misreads a threshold."""
    delta = max(1, round(n * rng.uniform(0.1, 0.6)))
    other = n + delta if rng.random() < 0.5 or n - delta < low else n - delta
    return max(low, other)


def _perturb_n(key: str = "n", low: int = 1):
    return lambda p, rng: {**p, key: _num(int(p[key]), rng, low)}


def _perturb_word(key: str):
    return lambda p, rng: {**p, key: rng.choice([w for w in KEYWORDS if w != p[key]])}


def _count_word(text: str, word: str) -> int:
    return len(re.findall(r"\b" + re.escape(word) + r"\b", text.lower()))


def _with_word(sents: list[str], word: str, times: int, rng: random.Random) -> list[str]:
    base = [strip_words(s, [word]) for s in sents]
    out = list(base)
    for k in range(times):
        i = k % len(out)
        out[i] = out[i].rstrip(".") + f" and {word}."
    return out


def _caps(sents: list[str], n: int) -> list[str]:
    text = " ".join(sents).split(" ")
    idx = [i for i, w in enumerate(text) if len(re.sub(r"\W", "", w)) > 2][:n]
    for i in idx:
        text[i] = text[i].upper()
    return [" ".join(text)]


def _lines(items: int, sents: list[str], prefix: str) -> str:
    return "\n".join(f"{prefix}{sents[i % len(sents)]}" for i in range(items))


def _other_count(n: int, rng: random.Random) -> int:
    other = max(1, n + rng.choice([-1, 1]) * rng.randint(1, 2))
    return other if other != n else n + 1


def _letter_text(sents: list[str], letter: str, times: int) -> str:
    text = strip_letter(" ".join(sents), letter)
    filler = {"z": "zone", "q": "quiet", "j": "joy", "x": "box"}[letter]
    return text + "".join(f" One {filler} again." for _ in range(times))


def _placeholder_text(sents: list[str], times: int) -> str:
    names = ("name", "address", "date", "city", "company", "phone")
    out = list(sents)
    for k in range(times):
        i = k % len(out)
        out[i] = out[i][:-1] + f" at [{names[k % len(names)]}]."
    return " ".join(out)


def _highlight_text(sents: list[str], times: int) -> str:
    out = list(sents)
    for k in range(min(times, len(out))):
        out[k] = f"*{out[k][:-1]}*."
    extra = max(0, times - len(out))
    return " ".join(out) + "".join(" *more to note*." for _ in range(extra))


def _paragraphs(sents: list[str], n: int, sep: str) -> str:
    chunks = [sents[i::n] or [sents[i % len(sents)]] for i in range(n)]
    return sep.join(" ".join(c) for c in chunks)


def _sections(sents: list[str], n: int, marker: str) -> str:
    return "\n\n".join(f"{marker} {i + 1}\n{sents[i % len(sents)]}" for i in range(n))


def _json_text(sents: list[str], comply: bool, rng: random.Random) -> str:
    if not comply:
        return " ".join(sents)
    body = json.dumps({"answer": " ".join(sents)}, indent=rng.choice([None, 2]))
    return f"```json\n{body}\n```" if rng.random() < 0.3 else body


def _is_json(text: str) -> bool:
    body = text.strip()
    body = re.sub(r"^```(json)?", "", body).strip()
    body = re.sub(r"```$", "", body).strip()
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _two_numbers(rng: random.Random) -> Params:
    low = rng.choice(range(20, 300, 10))
    return {"n": low, "m": low + rng.choice(range(20, 120, 10))}


TEMPLATES: tuple[Template, ...] = (
    Template(
        "lowercase",
        ("Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.",
         "Write your whole answer in lowercase letters only, with no capital letters."),
        "def evaluate(response):\n    return response == response.lower() and any(c.isalpha() for c in response)\n",
        lambda rng: {},
        lambda t, p: t == t.lower() and any(c.isalpha() for c in t),
        lambda s, p, ok, rng: " ".join(s).lower() if ok else " ".join(s),
    ),
    Template(
        "uppercase",
        ("Your entire response should be in English, and in all capital letters.",
         "Write your whole answer in capital letters only."),
        "def evaluate(response):\n    return response == response.upper() and any(c.isalpha() for c in response)\n",
        lambda rng: {},
        lambda t, p: t == t.upper() and any(c.isalpha() for c in t),
        lambda s, p, ok, rng: " ".join(s).upper() if ok else " ".join(s),
    ),
    Template(
        "capital_words_min",
        ("Use words in all capital letters at least {n} times to highlight key points.",
         "Include at least {n} words written entirely in capital letters."),
        "def evaluate(response):\n    capitals = [w for w in response.split() if w.isupper()]\n"
        "    return len(capitals) >= {n}\n",
        lambda rng: {"n": rng.randint(2, 12)},
        lambda t, p: len([w for w in t.split() if w.isupper()]) >= p["n"],
        lambda s, p, ok, rng: " ".join(_caps(s, p["n"] + rng.randint(0, 2) if ok else rng.randint(0, p["n"] - 1))),
        _perturb_n(),
    ),
    Template(
        "capital_words_max",
        ("Words in all capital letters should appear less than {n} times in your response.",
         "Use fewer than {n} words written entirely in capital letters."),
        "def evaluate(response):\n    capitals = [w for w in response.split() if w.isupper()]\n"
        "    return len(capitals) < {n}\n",
        lambda rng: {"n": rng.randint(2, 12)},
        lambda t, p: len([w for w in t.split() if w.isupper()]) < p["n"],
        lambda s, p, ok, rng: " ".join(_caps(s, rng.randint(0, p["n"] - 1) if ok else p["n"] + rng.randint(0, 2))),
        _perturb_n(),
        misread_as="capital_words_at_most",
        boundary=lambda s, p, rng: " ".join(_caps(s, p["n"])),
    ),
    Template(
        "no_comma",
        ("Do not use any commas in your response.", "Your answer must not contain a single comma."),
        "def evaluate(response):\n    return ',' not in response\n",
        lambda rng: {},
        lambda t, p: "," not in t,
        lambda s, p, ok, rng: " ".join(s) if ok else " ".join(x[:-1] + ", of course." for x in s),
    ),
    Template(
        "words_min",
        ("Answer with at least {n} words.", "Your response should contain at least {n} words."),
        "def evaluate(response):\n    return len(response.split()) >= {n}\n",
        lambda rng: {"n": rng.choice(range(20, 400, 10))},
        lambda t, p: len(t.split()) >= p["n"],
        lambda s, p, ok, rng: fit_words(s, p["n"] + rng.randint(0, 30) if ok else rng.randint(3, p["n"] - 1)),
        _perturb_n(low=5),
    ),
    Template(
        "words_max",
        ("Answer with less than {n} words.", "Your response should contain fewer than {n} words."),
        "def evaluate(response):\n    return len(response.split()) < {n}\n",
        lambda rng: {"n": rng.choice(range(20, 400, 10))},
        lambda t, p: len(t.split()) < p["n"],
        lambda s, p, ok, rng: fit_words(s, rng.randint(max(3, p["n"] // 3), p["n"] - 1) if ok
                                        else p["n"] + rng.randint(0, 40)),
        _perturb_n(low=5),
        misread_as="words_at_most",
        boundary=lambda s, p, rng: fit_words(s, p["n"]),
    ),
    Template(
        "words_between",
        ("Your entire response should contain between {n} and {m} words.",),
        "def evaluate(response):\n    count = len(response.split())\n    return {n} <= count <= {m}\n",
        _two_numbers,
        lambda t, p: p["n"] <= len(t.split()) <= p["m"],
        lambda s, p, ok, rng: fit_words(s, rng.randint(p["n"], p["m"]) if ok else rng.choice(
            [rng.randint(3, p["n"] - 1), p["m"] + rng.randint(1, 40)])),
        lambda p, rng: {**p, "m": _num(int(p["m"]), rng, low=int(p["n"]) + 1)},  # a slip still leaves a range
    ),
    Template(
        "sentences_max",
        ("Your response should contain less than {n} sentences.", "Answer in fewer than {n} sentences."),
        "import re\n\ndef evaluate(response):\n    parts = [s for s in re.split(r'[.!?]+', response) if s.strip()]\n"
        "    return len(parts) < {n}\n",
        lambda rng: {"n": rng.randint(2, 15)},
        lambda t, p: len(sentences(t)) < p["n"],
        lambda s, p, ok, rng: " ".join((s * 20)[: rng.randint(1, p["n"] - 1) if ok else p["n"] + rng.randint(0, 3)]),
        _perturb_n(low=2),
        misread_as="sentences_at_most",
        boundary=lambda s, p, rng: " ".join((s * 20)[: p["n"]]),
    ),
    Template(
        "sentences_min",
        ("Your response should contain at least {n} sentences.", "Answer with at least {n} sentences."),
        "import re\n\ndef evaluate(response):\n    parts = [s for s in re.split(r'[.!?]+', response) if s.strip()]\n"
        "    return len(parts) >= {n}\n",
        lambda rng: {"n": rng.randint(2, 15)},
        lambda t, p: len(sentences(t)) >= p["n"],
        lambda s, p, ok, rng: " ".join((s * 30)[: p["n"] + rng.randint(0, 3) if ok else rng.randint(1, p["n"] - 1)]),
        _perturb_n(low=2),
    ),
    Template(
        "paragraphs_divider",
        ("There should be exactly {n} paragraphs. Paragraphs are separated with the markdown divider: ***",
         "There should be exactly {n} paragraphs, separated from each other by the markdown divider: ***"),
        "def evaluate(response):\n    parts = [p for p in response.split('***') if p.strip()]\n"
        "    return len(parts) == {n}\n",
        lambda rng: {"n": rng.randint(2, 7)},
        lambda t, p: len([x for x in t.split("***") if x.strip()]) == p["n"],
        lambda s, p, ok, rng: _paragraphs(s * 3, p["n"] if ok else _other_count(p["n"], rng), "\n\n***\n\n"),
        _perturb_n(low=1),
    ),
    Template(
        "keywords_two",
        ('Include the keywords "{w1}" and "{w2}" in your response.',
         'Make sure your answer mentions the words "{w1}" and "{w2}".'),
        "def evaluate(response):\n    text = response.lower()\n    return '{w1}' in text and '{w2}' in text\n",
        lambda rng: dict(zip(("w1", "w2"), rng.sample(KEYWORDS, 2), strict=True)),
        lambda t, p: p["w1"] in t.lower() and p["w2"] in t.lower(),
        lambda s, p, ok, rng: " ".join(_with_word(_with_word(s, p["w1"], 1, rng), p["w2"], 1 if ok else 0, rng)),
        _perturb_word("w2"),
    ),
    Template(
        "word_count_min",
        ('In your response, the word "{w1}" should appear at least {n} times.',
         'Use the word "{w1}" at least {n} times.'),
        "import re\n\ndef evaluate(response):\n    found = re.findall(r'\\b{w1}\\b', response.lower())\n"
        "    return len(found) >= {n}\n",
        lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 8)},
        lambda t, p: _count_word(t, p["w1"]) >= p["n"],
        lambda s, p, ok, rng: " ".join(_with_word(s * 3, p["w1"], p["n"] + rng.randint(0, 2) if ok
                                                  else rng.randint(0, p["n"] - 1), rng)),
        _perturb_n(),
    ),
    Template(
        "word_count_max",
        ('In your response, the word "{w1}" should appear less than {n} times.',
         'Use the word "{w1}" fewer than {n} times.'),
        "import re\n\ndef evaluate(response):\n    found = re.findall(r'\\b{w1}\\b', response.lower())\n"
        "    return len(found) < {n}\n",
        lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 6)},
        lambda t, p: _count_word(t, p["w1"]) < p["n"],
        lambda s, p, ok, rng: " ".join(_with_word(s * 3, p["w1"], rng.randint(0, p["n"] - 1) if ok
                                                  else p["n"] + rng.randint(0, 2), rng)),
        _perturb_n(),
        misread_as="word_count_at_most",
        boundary=lambda s, p, rng: " ".join(_with_word(s * 3, p["w1"], p["n"], rng)),
    ),
    Template(
        "forbidden_words",
        ('Do not include the words "{w1}" or "{w2}" in your response.',
         'Do not include the words "{w1}" or "{w2}" anywhere in your response.'),
        "import re\n\ndef evaluate(response):\n    text = response.lower()\n"
        "    return not re.search(r'\\b{w1}\\b', text) and not re.search(r'\\b{w2}\\b', text)\n",
        lambda rng: dict(zip(("w1", "w2"), rng.sample(KEYWORDS, 2), strict=True)),
        lambda t, p: _count_word(t, p["w1"]) == 0 and _count_word(t, p["w2"]) == 0,
        lambda s, p, ok, rng: " ".join(_with_word(_with_word(s, p["w1"], 0, rng), p["w2"], 0 if ok else 1, rng)),
        _perturb_word("w2"),
    ),
    Template(
        "letter_min",
        ('In your response, the letter "{letter}" should appear at least {n} times.',
         'Make sure the letter "{letter}" appears at least {n} times in your response.'),
        "def evaluate(response):\n    return response.lower().count('{letter}') >= {n}\n",
        lambda rng: {"letter": rng.choice(RARE_LETTERS), "n": rng.randint(2, 12)},
        lambda t, p: t.lower().count(p["letter"]) >= p["n"],
        lambda s, p, ok, rng: _letter_text(s, p["letter"], p["n"] + rng.randint(0, 2) if ok
                                           else rng.randint(0, p["n"] - 1)),
        _perturb_n(),
    ),
    Template(
        "letter_max",
        ('In your response, the letter "{letter}" should appear less than {n} times.',
         'Use the letter "{letter}" fewer than {n} times in your response.'),
        "def evaluate(response):\n    return response.lower().count('{letter}') < {n}\n",
        lambda rng: {"letter": rng.choice(RARE_LETTERS), "n": rng.randint(2, 8)},
        lambda t, p: t.lower().count(p["letter"]) < p["n"],
        lambda s, p, ok, rng: _letter_text(s, p["letter"], rng.randint(0, p["n"] - 1) if ok
                                           else p["n"] + rng.randint(0, 2)),
        _perturb_n(),
        misread_as="letter_at_most",
        boundary=lambda s, p, rng: _letter_text(s, p["letter"], p["n"]),
    ),
    Template(
        "placeholders",
        ("The response must contain at least {n} placeholders represented by square brackets, such as [address].",
         "Include at least {n} placeholders represented by square brackets, such as [name]."),
        "import re\n\ndef evaluate(response):\n    return len(re.findall(r'\\[[^\\]]+\\]', response)) >= {n}\n",
        lambda rng: {"n": rng.randint(1, 6)},
        lambda t, p: len(re.findall(r"\[[^\]]+\]", t)) >= p["n"],
        lambda s, p, ok, rng: _placeholder_text(s, p["n"] + rng.randint(0, 2) if ok else rng.randint(0, p["n"] - 1)),
        _perturb_n(),
    ),
    Template(
        "postscript",
        ("At the end of your response, please explicitly add a postscript starting with {marker}",
         "End your answer with a postscript that starts with {marker}"),
        "def evaluate(response):\n    return '{marker}' in response\n",
        lambda rng: {"marker": rng.choice(PS_MARKERS)},
        lambda t, p: p["marker"] in t,
        lambda s, p, ok, rng: " ".join(s) + (f"\n\n{p['marker']} Thanks for asking." if ok else ""),
    ),
    Template(
        "bullets_exact",
        ("Your answer must contain exactly {n} bullet points. "
         "Use the markdown bullet points such as: * This is point 1.",
         "Your answer must contain exactly {n} bullet points in markdown format, such as: * First point."),
        "import re\n\ndef evaluate(response):\n"
        "    bullets = re.findall(r'^\\s*\\* ', response, flags=re.MULTILINE)\n"
        "    return len(bullets) == {n}\n",
        lambda rng: {"n": rng.randint(2, 8)},
        lambda t, p: len(re.findall(r"^\s*\* ", t, flags=re.MULTILINE)) == p["n"],
        lambda s, p, ok, rng: _lines(p["n"] if ok else _other_count(p["n"], rng), s, "* "),
        _perturb_n(low=1),
        misread_as="bullets_min",
        boundary=lambda s, p, rng: _lines(p["n"] + 1, s, "* "),
    ),
    Template(
        "highlights_min",
        ("Highlight at least {n} sections in your answer with markdown, i.e. *highlighted section*.",
         "Italicize at least {n} text parts with markdown, i.e. *italic text*."),
        "import re\n\ndef evaluate(response):\n    return len(re.findall(r'\\*[^\\n\\*]+\\*', response)) >= {n}\n",
        lambda rng: {"n": rng.randint(1, 6)},
        lambda t, p: len(re.findall(r"\*[^\n\*]+\*", t)) >= p["n"],
        lambda s, p, ok, rng: _highlight_text(s, p["n"] + rng.randint(0, 1) if ok else rng.randint(0, p["n"] - 1)),
        _perturb_n(),
    ),
    Template(
        "sections",
        ("Your response must have {n} sections. Mark the beginning of each section with {marker} X, "
         "such as: {marker} 1.",),
        "import re\n\ndef evaluate(response):\n"
        "    found = re.findall(r'^{marker} \\d+', response, flags=re.MULTILINE)\n"
        "    return len(found) == {n}\n",
        lambda rng: {"n": rng.randint(2, 6), "marker": rng.choice(MARKERS)},
        lambda t, p: len(re.findall(rf"^{p['marker']} \d+", t, flags=re.MULTILINE)) == p["n"],
        lambda s, p, ok, rng: _sections(s, p["n"] if ok else _other_count(p["n"], rng), p["marker"]),
        _perturb_n(low=1),
    ),
    Template(
        "json_format",
        ("Your entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
         "Wrap your whole answer in valid JSON."),
        "import json\n\ndef evaluate(response):\n    body = response.strip()\n    if body.startswith('```'):\n"
        "        body = body.split('\\n', 1)[-1].rsplit('```', 1)[0]\n    try:\n        json.loads(body)\n"
        "    except ValueError:\n        return False\n    return True\n",
        lambda rng: {},
        lambda t, p: _is_json(t),
        lambda s, p, ok, rng: _json_text(s, ok, rng),
    ),
    Template(
        "title",
        ("Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>.",
         "Give your answer a title wrapped in double angular brackets, like <<my title>>."),
        "import re\n\ndef evaluate(response):\n    return re.search(r'<<[^\\n]+>>', response) is not None\n",
        lambda rng: {},
        lambda t, p: re.search(r"<<[^\n]+>>", t) is not None,
        lambda s, p, ok, rng: ("<<A short answer>>\n\n" if ok else "A short answer\n\n") + " ".join(s),
    ),
    Template(
        "end_phrase",
        ('Finish your response with this exact phrase: "{phrase}". No other words should follow this phrase.',
         'End your response with the exact phrase "{phrase}" No other words should follow this phrase.'),
        "def evaluate(response):\n    return response.strip().endswith('{phrase}')\n",
        lambda rng: {"phrase": rng.choice(END_PHRASES)},
        lambda t, p: t.strip().endswith(p["phrase"]),
        lambda s, p, ok, rng: " ".join(s) + " " + (p["phrase"] if ok else p["phrase"] + " " + s[0]),
        lambda p, rng: {**p, "phrase": rng.choice([x for x in END_PHRASES if x != p["phrase"]])},
    ),
    Template(
        "start_phrase",
        ('Start your response with the exact phrase "{phrase}" and do not say anything before it.',
         'Begin your answer with the exact words "{phrase}"'),
        "def evaluate(response):\n    return response.strip().startswith('{phrase}')\n",
        lambda rng: {"phrase": rng.choice(START_PHRASES)},
        lambda t, p: t.strip().startswith(p["phrase"]),
        lambda s, p, ok, rng: (p["phrase"] + " " if ok else "Well. ") + " ".join(s),
        lambda p, rng: {**p, "phrase": rng.choice([x for x in START_PHRASES if x != p["phrase"]])},
    ),
    Template(
        "quotation",
        ("Wrap your entire response with double quotation marks.", "Put your whole answer inside double quotes."),
        "def evaluate(response):\n    text = response.strip()\n"
        "    return len(text) > 1 and text.startswith('\"') and text.endswith('\"')\n",
        lambda rng: {},
        lambda t, p: len(t.strip()) > 1 and t.strip().startswith('"') and t.strip().endswith('"'),
        lambda s, p, ok, rng: f'"{" ".join(s)}"' if ok else " ".join(s),
    ),
)
# The readings a shared misconception gives the templates above (misread_as): constraints in their own right too.
SIBLINGS: tuple[Template, ...] = (
    Template(
        "words_at_most",
        ("Answer with at most {n} words.", "Your response should contain no more than {n} words."),
        "def evaluate(response):\n    return len(response.split()) <= {n}\n",
        lambda rng: {"n": rng.choice(range(20, 400, 10))},
        lambda t, p: len(t.split()) <= p["n"],
        lambda s, p, ok, rng: fit_words(s, rng.randint(max(3, p["n"] // 3), p["n"]) if ok
                                        else p["n"] + rng.randint(1, 40)),
        _perturb_n(low=5),
    ),
    Template(
        "capital_words_at_most",
        ("Use at most {n} words written entirely in capital letters.",),
        "def evaluate(response):\n    capitals = [w for w in response.split() if w.isupper()]\n"
        "    return len(capitals) <= {n}\n",
        lambda rng: {"n": rng.randint(2, 12)},
        lambda t, p: len([w for w in t.split() if w.isupper()]) <= p["n"],
        lambda s, p, ok, rng: " ".join(_caps(s, rng.randint(0, p["n"]) if ok else p["n"] + rng.randint(1, 2))),
        _perturb_n(),
    ),
    Template(
        "sentences_at_most",
        ("Your response should contain at most {n} sentences.", "Answer in no more than {n} sentences."),
        "import re\n\ndef evaluate(response):\n    parts = [s for s in re.split(r'[.!?]+', response) if s.strip()]\n"
        "    return len(parts) <= {n}\n",
        lambda rng: {"n": rng.randint(2, 15)},
        lambda t, p: len(sentences(t)) <= p["n"],
        lambda s, p, ok, rng: " ".join((s * 20)[: rng.randint(1, p["n"]) if ok else p["n"] + rng.randint(1, 3)]),
        _perturb_n(low=2),
    ),
    Template(
        "word_count_at_most",
        ('In your response, the word "{w1}" should appear at most {n} times.',
         'Use the word "{w1}" no more than {n} times.'),
        "import re\n\ndef evaluate(response):\n    found = re.findall(r'\\b{w1}\\b', response.lower())\n"
        "    return len(found) <= {n}\n",
        lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 6)},
        lambda t, p: _count_word(t, p["w1"]) <= p["n"],
        lambda s, p, ok, rng: " ".join(_with_word(s * 3, p["w1"], rng.randint(0, p["n"]) if ok
                                                  else p["n"] + rng.randint(1, 2), rng)),
        _perturb_n(),
    ),
    Template(
        "letter_at_most",
        ('In your response, the letter "{letter}" should appear at most {n} times.',),
        "def evaluate(response):\n    return response.lower().count('{letter}') <= {n}\n",
        lambda rng: {"letter": rng.choice(RARE_LETTERS), "n": rng.randint(2, 8)},
        lambda t, p: t.lower().count(p["letter"]) <= p["n"],
        lambda s, p, ok, rng: _letter_text(s, p["letter"], rng.randint(0, p["n"]) if ok
                                           else p["n"] + rng.randint(1, 2)),
        _perturb_n(),
    ),
    Template(
        "bullets_min",
        ("Your answer must contain at least {n} bullet points. Use the markdown bullet points such as: * Point 1.",),
        "import re\n\ndef evaluate(response):\n"
        "    bullets = re.findall(r'^\\s*\\* ', response, flags=re.MULTILINE)\n"
        "    return len(bullets) >= {n}\n",
        lambda rng: {"n": rng.randint(2, 8)},
        lambda t, p: len(re.findall(r"^\s*\* ", t, flags=re.MULTILINE)) >= p["n"],
        # too few is none at all (plain prose) where n is 1, as a misread "exactly 1 bullet" asks
        lambda s, p, ok, rng: _lines(p["n"] + rng.randint(0, 2), s, "* ") if ok
        else _lines(rng.randint(1, p["n"] - 1), s, "* ") if p["n"] > 1 else " ".join(s),
        _perturb_n(low=2),
    ),
)
TEMPLATES = TEMPLATES + SIBLINGS
BY_NAME = {t.name: t for t in TEMPLATES}

# Constraints a function of the text alone cannot check: the augment prompt asks the model to avoid them, and the
# sim writes some anyway, as models do.
UNVERIFIABLE = (
    "Write in a warm and friendly tone.", "Make your answer persuasive.", "Respond as if you were a pirate.",
    "Use a formal register suitable for a business letter.", "Be concise but thorough.",
    "Make the response funny.", "Explain it so a child could understand.", "Write in the style of Shakespeare.",
    "Sound confident and optimistic.", "Avoid any controversial opinions.", "Use vivid imagery.",
    "Make sure your answer is factually accurate.", "Respond with empathy.", "Write like a news reporter.",
    "Keep the reader engaged throughout.", "Be creative and original.", "Use simple vocabulary.",
    "Answer in a neutral and balanced way.", "Include a surprising fact.", "Write with a sense of urgency.",
)

# ------------------------------------------------------------------------------------------------ reading text

_FIELD = {"n": r"(?P<n>\d+)", "m": r"(?P<m>\d+)", "w1": r"(?P<w1>[A-Za-z']+)", "w2": r"(?P<w2>[A-Za-z']+)",
          "letter": r"(?P<letter>[a-z])", "phrase": r"(?P<phrase>[^\"']+?)", "marker": r"(?P<marker>[A-Za-z.]+?)"}


def _pattern(fmt: str) -> re.Pattern:
    out, seen = [], set()
    for literal, fieldname, _spec, _conv in string.Formatter().parse(fmt):
        out.append(re.escape(literal))
        if fieldname:
            out.append(f"(?P={fieldname})" if fieldname in seen else _FIELD[fieldname])
            seen.add(fieldname)
    return re.compile(r"\s*" + "".join(out) + r"\s*", re.DOTALL)


def _normalise_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def _patterns() -> list[tuple[Template, re.Pattern, bool]]:
    """(template, pattern, is_code): phrasings are matched on whitespace-normalised text, code as written."""
    out = []
    for t in TEMPLATES:
        out += [(t, _pattern(_normalise_ws(p)), False) for p in t.phrasings]
        out.append((t, _pattern(t.code), True))
    return out


def _params_of(match: re.Match) -> Params:
    return {k: int(v) if k in ("n", "m") else v for k, v in match.groupdict().items()}


def parse_constraint(text: str) -> tuple[Template, Params] | None:
    """The template and params a constraint's text states, or None when the catalogue does not know it."""
    norm = _normalise_ws(text)
    for t, pattern, is_code in _patterns():
        if not is_code and (m := pattern.fullmatch(norm)):
            params = _params_of(m)
            if "marker" in params and t.name == "postscript" and params["marker"] not in PS_MARKERS:
                continue
            return t, params
    return None


def parse_code(code: str) -> tuple[Template, Params] | None:
    """The template and params a verifier's source implements, when it is one of the catalogue's checkers."""
    body = code.strip("\n") + "\n"
    for t, pattern, is_code in _patterns():
        if is_code and (m := pattern.fullmatch(body)):
            return t, _params_of(m)
    return None


def state(template: Template, params: Params, rng: random.Random) -> str:
    return rng.choice(template.phrasings).format(**params)


def code_for(template: Template, params: Params) -> str:
    return template.code.format(**params)


def topic_words(query: str) -> list[str]:
    stop = {"what", "which", "when", "where", "that", "this", "with", "from", "have", "your", "about", "should",
            "would", "could", "there", "their", "they", "into", "some", "more", "most", "best", "does", "while",
            "without", "them", "then", "than", "write", "give", "explain", "tell", "make", "help", "need"}
    found = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", query)]
    return [clean(w) for w in dict.fromkeys(found) if w not in stop and clean(w)][:6]
