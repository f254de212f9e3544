"""The sim teacher's constraint space at the real case's width: catalogue.py's templates with the parameter ranges and
phrasings a model spreads over when asked for thousands of lines (same names, so misreadings, siblings and NLI
keep working), and the families the seeds use that catalogue.py lacks (three keywords, a paragraph's first word,
several responses, exact sentence counts...) plus a few more of IFEval's kind.

constraint_space.py combines these and reads them back; like catalogue.py, only the sim and its reports use this.
"""

from __future__ import annotations

import dataclasses
import random
import re

from sims.autoif import catalogue as cat
from sims.autoif.catalogue import Params, Template, fit_words

# ------------------------------------------------------------------------------------------------ word lists

_CANDIDATE_WORDS = (
    "anchor", "autumn", "blanket", "candle", "canyon", "castle", "cotton", "crystal", "desert", "dolphin",
    "feather", "festival", "flower", "fortune", "gallery", "glacier", "harbor", "horizon", "lantern", "library",
    "meadow", "mirror", "morning", "mountain", "orchard", "palace", "pepper", "pillow", "pocket", "portrait",
    "rainbow", "rocket", "saddle", "sunset", "temple", "theater", "thunder", "tunnel", "valley", "velvet",
    "village", "violin", "wallet", "weather", "whistle", "wisdom", "yellow", "almond", "button", "carpet",
    "cherry", "circle", "copper", "dragon", "emerald", "farmer", "garlic", "hammer", "ladder", "magnet",
    "marble", "needle", "office", "parrot", "pencil", "rabbit", "ribbon", "salmon", "shadow", "spider",
    "tomato", "turtle", "walnut", "camera", "bottle", "cinema", "planner", "tractor", "orange", "lemon",
)


def _safe(word: str) -> bool:
    """A word the renderers can add and remove without touching anything else: no rare letter (clean() drops
    those words), and neither part of nor containing a keyword, nor part of any text the templates write."""
    texts = " ".join(cat.FILLER + cat.GENERIC + cat.END_PHRASES + cat.START_PHRASES).lower()
    others = [k for k in cat.KEYWORDS if k != word]
    return not any(letter in word for letter in cat.RARE_LETTERS) and word not in texts and \
        not any(word in k or k in word for k in others)


KEYWORDS = cat.KEYWORDS + tuple(w for w in dict.fromkeys(_CANDIDATE_WORDS) if _safe(w))
OPENERS = ("moreover", "imagine", "however", "finally", "overall", "today", "notably", "indeed", "meanwhile",
           "honestly", "surprisingly", "remember") + KEYWORDS
END_PHRASES = cat.END_PHRASES + (
    "I hope this answers your question.", "Thanks for your patience.", "Good luck with everything.",
    "Let me know how it goes.", "That concludes my answer.", "Wishing you all the best.",
    "Happy to help anytime.", "Take care and stay safe.", "Enjoy the rest of your day.", "Until next time.")
START_PHRASES = cat.START_PHRASES + (
    "Good morning:", "Absolutely:", "Of course:", "Here is the short version:", "My answer is this:",
    "Thanks for asking:", "First things first:", "Quick answer:", "Happy to help:", "Let us begin:")
MARKERS = cat.MARKERS + ("Chapter", "CHAPTER", "Item", "Topic", "Point")
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th")
SEPARATOR = "******"
OPTIONS = ('"My answer is yes.", "My answer is no.", "My answer is maybe."',)


def _letter(rng: random.Random, high: int) -> Params:
    return {"letter": rng.choice(cat.RARE_LETTERS), "n": rng.randint(1, high)}


def _pair(rng: random.Random) -> Params:
    return dict(zip(("w1", "w2"), rng.sample(KEYWORDS, 2), strict=True))


def _between(rng: random.Random) -> Params:
    low = rng.choice(range(20, 400, 5))
    return {"n": low, "m": low + rng.choice(range(10, 200, 5))}


# What each catalogue template adds: phrasings (tried after its own) and a wider draw; None keeps its draw.
_WIDER: dict[str, tuple[tuple[str, ...], object]] = {
    "lowercase": (("Respond using only lowercase letters.", "Do not use any capital letters in your answer.",
                   "Every letter of your reply must be lowercase."), None),
    "uppercase": (("Respond using only capital letters.", "Every letter of your reply must be uppercase.",
                   "Your whole reply must be written in uppercase letters."), None),
    "capital_words_min": (("Write at least {n} words entirely in uppercase.",
                           "Emphasise at least {n} words by writing them in all capital letters."),
                          lambda rng: {"n": rng.randint(1, 20)}),
    "capital_words_max": (("Write fewer than {n} words entirely in uppercase.",
                           "Keep the number of all-capital words below {n}."),
                          lambda rng: {"n": rng.randint(2, 20)}),
    "no_comma": (("Avoid commas entirely in your answer.", "Write your reply without using any commas."), None),
    "words_min": (("Write no fewer than {n} words.", "Make your answer at least {n} words long.",
                   "Use a minimum of {n} words in your reply."), lambda rng: {"n": rng.choice(range(15, 600, 5))}),
    "words_max": (("Keep your answer under {n} words.", "Make your answer shorter than {n} words.",
                   "Reply in fewer than {n} words."), lambda rng: {"n": rng.choice(range(15, 600, 5))}),
    "words_between": (("Write between {n} and {m} words.", "Your answer should be {n} to {m} words long."),
                      _between),
    "sentences_max": (("Keep your answer to fewer than {n} sentences.", "Write fewer than {n} sentences."),
                      lambda rng: {"n": rng.randint(2, 25)}),
    "sentences_min": (("Write at least {n} sentences.", "Use a minimum of {n} sentences in your answer."),
                      lambda rng: {"n": rng.randint(2, 25)}),
    "paragraphs_divider": (("Write exactly {n} paragraphs and separate them with the markdown divider ***",),
                           lambda rng: {"n": rng.randint(2, 10)}),
    "keywords_two": (('Mention both "{w1}" and "{w2}" in your answer.', 'Your reply must use the words "{w1}" and '
                      '"{w2}".'), _pair),
    "word_count_min": (('Mention the word "{w1}" at least {n} times.',
                        'The word "{w1}" must occur at least {n} times in your answer.'),
                       lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 10)}),
    "word_count_max": (('Mention the word "{w1}" fewer than {n} times.',
                        'The word "{w1}" must occur fewer than {n} times in your answer.'),
                       lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 8)}),
    "forbidden_words": (('Never use the words "{w1}" or "{w2}" in your answer.',
                         'Avoid the words "{w1}" and "{w2}" entirely.'), _pair),
    "letter_min": (('Use the letter "{letter}" at least {n} times.',), lambda rng: _letter(rng, 20)),
    "letter_max": (('The letter "{letter}" must appear fewer than {n} times in your answer.',),
                   lambda rng: {**_letter(rng, 12), "n": rng.randint(2, 12)}),
    "placeholders": (("Use at least {n} placeholders in square brackets, like [date].",),
                     lambda rng: {"n": rng.randint(1, 10)}),
    "postscript": (("Close your reply with a postscript that begins with {marker}",), None),
    "bullets_exact": (("Format your answer as exactly {n} markdown bullet points, such as: * A point.",),
                      lambda rng: {"n": rng.randint(1, 12)}),
    "highlights_min": (("Use markdown to highlight at least {n} parts of your answer, i.e. *highlighted part*.",),
                       lambda rng: {"n": rng.randint(1, 10)}),
    "sections": (("Divide your answer into {n} sections, each starting with {marker} X, such as: {marker} 1.",),
                 lambda rng: {"n": rng.randint(2, 9), "marker": rng.choice(MARKERS)}),
    "json_format": (("Format your entire reply as valid JSON.", "Your whole output must be valid JSON."), None),
    "title": (("Start with a title in double angular brackets, such as <<a day out>>.",), None),
    "end_phrase": (('Conclude your answer with the exact sentence "{phrase}" and write nothing after it.',),
                   lambda rng: {"phrase": rng.choice(END_PHRASES)}),
    "start_phrase": (('Open your reply with the exact words "{phrase}" before anything else.',),
                     lambda rng: {"phrase": rng.choice(START_PHRASES)}),
    "quotation": (("Enclose your whole reply in double quotation marks.",), None),
    "words_at_most": (("Keep your answer to at most {n} words.", "Use a maximum of {n} words."),
                      lambda rng: {"n": rng.choice(range(15, 600, 5))}),
    "capital_words_at_most": (("Write no more than {n} words entirely in uppercase.",),
                              lambda rng: {"n": rng.randint(2, 20)}),
    "sentences_at_most": (("Write no more than {n} sentences.",), lambda rng: {"n": rng.randint(2, 25)}),
    "word_count_at_most": (('Mention the word "{w1}" no more than {n} times.',),
                           lambda rng: {"w1": rng.choice(KEYWORDS), "n": rng.randint(2, 8)}),
    "letter_at_most": (('Use the letter "{letter}" no more than {n} times.',),
                       lambda rng: {**_letter(rng, 12), "n": rng.randint(2, 12)}),
    "bullets_min": (("Include at least {n} markdown bullet points, such as: * A point.",),
                    lambda rng: {"n": rng.randint(2, 12)}),
}


def widened(template: Template) -> Template:
    phrasings, draw = _WIDER.get(template.name, ((), None))
    return dataclasses.replace(template, phrasings=template.phrasings + phrasings, draw=draw or template.draw)


# ------------------------------------------------------------------------------------------------ new families


def _paragraph_words(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _first_word(paragraph: str) -> str:
    found = paragraph.split()
    return re.sub(r"\W", "", found[0]).lower() if found else ""


def _nth_check(t: str, p: Params) -> bool:
    paragraphs, index = _paragraph_words(t), int(str(p["ord"])[:-2]) - 1
    return len(paragraphs) == p["n"] and _first_word(paragraphs[index]) == p["w1"]


def _nth_render(s: list[str], p: Params, ok: bool, rng: random.Random) -> str:
    n, index = int(p["n"]), int(str(p["ord"])[:-2]) - 1
    count = n if ok or rng.random() < 0.5 else cat._other_count(n, rng)
    chunks = [" ".join((s * 3)[i::count] or s[:1]) for i in range(count)]
    opener = str(p["w1"]) if ok or count != n else rng.choice([w for w in OPENERS if w != p["w1"]])
    if index < count:
        chunks[index] = f"{opener.capitalize()} {chunks[index][:1].lower()}{chunks[index][1:]}"
    return "\n\n".join(chunks)


def _nth_draw(rng: random.Random) -> Params:
    n = rng.randint(2, 7)
    return {"n": n, "ord": ORDINALS[rng.randrange(n)], "w1": rng.choice(OPENERS)}


def _keywords3(s: list[str], p: Params, ok: bool, rng: random.Random) -> str:
    out = cat._with_word(cat._with_word(s, str(p["w1"]), 1, rng), str(p["w2"]), 1, rng)
    return " ".join(cat._with_word(out, str(p["w3"]), 1 if ok else 0, rng))


def _responses(s: list[str], n: int) -> str:
    return f"\n{SEPARATOR}\n".join(" ".join(s[i % len(s):] + s[: i % len(s)]) for i in range(n))


def _with_length(s: list[str], low: int, high: int, rng: random.Random) -> str:
    """Whole sentences, repeated, cut at a word so that the length falls in [low, high] characters."""
    target = rng.randint(low, high)
    text = " ".join(s)
    while len(text) < target + 20:
        text += " " + " ".join(s)
    cut = text[: target - 1].rsplit(" ", 1)[0].rstrip(".")
    cut += "."
    return cut + "." * max(0, low - len(cut))


def _numbered(n: int, s: list[str]) -> str:
    return "\n".join(f"{i + 1}. {s[i % len(s)]}" for i in range(n))


def _hashtags(s: list[str], n: int) -> str:
    tags = " ".join(f"#{w}" for w in (KEYWORDS * 2)[:n])
    return " ".join(s) + (f"\n\n{tags}" if n else "")


def _digits(s: list[str], n: int) -> str:
    return " ".join(s) + "".join(f" Note {k + 1} applies." for k in range(n))


def _without_long(text: str, n: int) -> str:
    return " ".join(w for w in text.split(" ") if len(re.sub(r"\W", "", w)) <= n)


def _bold(s: list[str], n: int) -> str:
    return " ".join(s) + "".join(f" **key point {'abcdefghiklmnoprstuvwy'[k % 22]}**." for k in range(n))


_COUNT_PERTURB = cat._perturb_n()

FAMILIES: tuple[Template, ...] = (
    Template(
        "keywords_three",
        ('Include the keywords "{w1}", "{w2}" and "{w3}" somewhere in your response.',
         'Make sure your answer uses the words "{w1}", "{w2}" and "{w3}".'),
        "import re\n\ndef evaluate(response):\n    text = response.lower()\n"
        "    return all(re.search(r'\\b' + w + r'\\b', text) for w in ('{w1}', '{w2}', '{w3}'))\n",
        lambda rng: dict(zip(("w1", "w2", "w3"), rng.sample(KEYWORDS, 3), strict=True)),
        lambda t, p: all(cat._count_word(t, str(p[k])) for k in ("w1", "w2", "w3")),
        _keywords3,
        lambda p, rng: {**p, "w3": rng.choice([w for w in KEYWORDS if w not in (p["w1"], p["w2"], p["w3"])])},
    ),
    Template(
        "nth_paragraph_first_word",
        ('There should be exactly {n} paragraphs, separated by two new lines. The {ord} paragraph must start with '
         'the word "{w1}".',
         'Write exactly {n} paragraphs separated by blank lines, and begin the {ord} paragraph with the word '
         '"{w1}".'),
        "import re\n\ndef evaluate(response):\n    paragraphs = [p for p in response.split('\\n\\n') if p.strip()]\n"
        "    if len(paragraphs) != {n}:\n        return False\n"
        "    words = paragraphs[int('{ord}'[:-2]) - 1].split()\n"
        "    return bool(words) and re.sub(r'\\W', '', words[0]).lower() == '{w1}'\n",
        _nth_draw, _nth_check, _nth_render,
        lambda p, rng: {**p, "w1": rng.choice([w for w in OPENERS if w != p["w1"]])},
    ),
    Template(
        "responses_count",
        ("Give {n} different responses. Responses and only responses should be separated by 6 asterisk symbols: "
         "******.", "Write {n} alternative answers, separated from each other by ******."),
        "def evaluate(response):\n    parts = response.split('******')\n"
        "    return len(parts) == {n} and all(part.strip() for part in parts)\n",
        lambda rng: {"n": rng.choice([2, 2, 2, 3, 4, 5])},
        lambda t, p: len(t.split(SEPARATOR)) == p["n"] and all(x.strip() for x in t.split(SEPARATOR)),
        lambda s, p, ok, rng: _responses(s, int(p["n"]) if ok else cat._other_count(int(p["n"]), rng)),
        cat._perturb_n(low=2),
    ),
    Template(
        "sentences_exact",
        ("Your response should contain exactly {n} sentences.", "Answer with exactly {n} sentences."),
        "import re\n\ndef evaluate(response):\n    parts = [s for s in re.split(r'[.!?]+', response) if s.strip()]\n"
        "    return len(parts) == {n}\n",
        lambda rng: {"n": rng.randint(1, 15)},
        lambda t, p: len(cat.sentences(t)) == p["n"],
        lambda s, p, ok, rng: " ".join((s * 20)[: int(p["n"]) if ok else cat._other_count(int(p["n"]), rng)]),
        _COUNT_PERTURB,
    ),
    Template(
        "chars_max",
        ("Your response should be at most {n} characters long.", "Keep your answer within {n} characters."),
        "def evaluate(response):\n    return len(response) <= {n}\n",
        lambda rng: {"n": rng.choice(range(100, 2500, 10))},
        lambda t, p: len(t) <= p["n"],
        lambda s, p, ok, rng: _with_length(s, int(p["n"]) // 3, int(p["n"]), rng) if ok
        else _with_length(s, int(p["n"]) + 1, int(p["n"]) + 300, rng),
        cat._perturb_n(low=50),
    ),
    Template(
        "chars_min",
        ("Your response should be at least {n} characters long.", "Write at least {n} characters."),
        "def evaluate(response):\n    return len(response) >= {n}\n",
        lambda rng: {"n": rng.choice(range(100, 2500, 10))},
        lambda t, p: len(t) >= p["n"],
        lambda s, p, ok, rng: _with_length(s, int(p["n"]), int(p["n"]) + 300, rng) if ok
        else _with_length(s, 20, int(p["n"]) - 1, rng),
        cat._perturb_n(low=50),
    ),
    Template(
        "numbered_exact",
        ("Your answer must be a numbered list of exactly {n} items, such as: 1. First item.",
         "Answer with exactly {n} numbered items, like 1. This is an item."),
        "import re\n\ndef evaluate(response):\n    items = re.findall(r'^\\s*\\d+\\. ', response, flags=re.MULTILINE)\n"
        "    return len(items) == {n}\n",
        lambda rng: {"n": rng.randint(2, 12)},
        lambda t, p: len(re.findall(r"^\s*\d+\. ", t, flags=re.MULTILINE)) == p["n"],
        lambda s, p, ok, rng: _numbered(int(p["n"]) if ok else cat._other_count(int(p["n"]), rng), s),
        _COUNT_PERTURB,
    ),
    Template(
        "hashtags_min",
        ("Include at least {n} hashtags, such as #example.", "End your answer with at least {n} hashtags like #tip."),
        "import re\n\ndef evaluate(response):\n    return len(re.findall(r'#\\w+', response)) >= {n}\n",
        lambda rng: {"n": rng.randint(1, 10)},
        lambda t, p: len(re.findall(r"#\w+", t)) >= p["n"],
        lambda s, p, ok, rng: _hashtags(s, int(p["n"]) + rng.randint(0, 2) if ok else rng.randint(0, int(p["n"]) - 1)),
        _COUNT_PERTURB,
    ),
    Template(
        "digits_min",
        ("Include at least {n} numbers written with digits.", "Use digits to write at least {n} numbers."),
        "import re\n\ndef evaluate(response):\n    return len(re.findall(r'\\d+', response)) >= {n}\n",
        lambda rng: {"n": rng.randint(1, 10)},
        lambda t, p: len(re.findall(r"\d+", t)) >= p["n"],
        lambda s, p, ok, rng: _digits(s, int(p["n"]) + rng.randint(0, 2) if ok else rng.randint(0, int(p["n"]) - 1)),
        _COUNT_PERTURB,
    ),
    Template(
        "no_digits",
        ("Do not use any digits in your response.", "Write every number in words: no digits at all."),
        "def evaluate(response):\n    return not any(c.isdigit() for c in response)\n",
        lambda rng: {},
        lambda t, p: not any(c.isdigit() for c in t),
        lambda s, p, ok, rng: " ".join(s) if ok else _digits(s, rng.randint(1, 3)),
    ),
    Template(
        "question_end",
        ("End your response with a question.", "Your answer must finish with a question mark."),
        "def evaluate(response):\n    text = response.rstrip()\n    return text.endswith('?')\n",
        lambda rng: {},
        lambda t, p: t.strip().endswith("?"),
        lambda s, p, ok, rng: " ".join(s) + (" What do you think?" if ok else ""),
    ),
    Template(
        "word_length_max",
        ("Do not use any word longer than {n} letters.", "Every word in your answer must have at most {n} letters."),
        "import re\n\ndef evaluate(response):\n"
        "    return all(len(re.sub(r'\\W', '', w)) <= {n} for w in response.split())\n",
        lambda rng: {"n": rng.randint(7, 14)},
        lambda t, p: all(len(re.sub(r"\W", "", w)) <= p["n"] for w in t.split()),
        lambda s, p, ok, rng: _without_long(" ".join(s), int(p["n"])) + ("" if ok else " Incomprehensibilities."),
        cat._perturb_n(low=5),
    ),
    Template(
        "bold_min",
        ("Use bold text at least {n} times, such as **important**.",
         "Put at least {n} phrases in bold with markdown, like **this**."),
        "import re\n\ndef evaluate(response):\n    return len(re.findall(r'\\*\\*[^*\\n]+\\*\\*', response)) >= {n}\n",
        lambda rng: {"n": rng.randint(1, 8)},
        lambda t, p: len(re.findall(r"\*\*[^*\n]+\*\*", t)) >= p["n"],
        lambda s, p, ok, rng: _bold(s, int(p["n"]) + rng.randint(0, 1) if ok else rng.randint(0, int(p["n"]) - 1)),
        _COUNT_PERTURB,
    ),
    Template(
        "first_word",
        ('The first word of your response should be "{w1}".', 'Begin your answer with the word "{w1}".'),
        "import re\n\ndef evaluate(response):\n    words = response.split()\n"
        "    return bool(words) and re.sub(r'\\W', '', words[0]).lower() == '{w1}'\n",
        lambda rng: {"w1": rng.choice(OPENERS)},
        lambda t, p: _first_word(t) == p["w1"],
        lambda s, p, ok, rng: (f"{str(p['w1']).capitalize()} " if ok else "So ") + s[0][:1].lower() + " ".join(s)[1:],
        lambda p, rng: {**p, "w1": rng.choice([w for w in OPENERS if w != p["w1"]])},
    ),
    Template(
        "options_answer",
        ("Answer with one of the following options: {options}",),
        "def evaluate(response):\n    return response.strip() in ({options})\n",
        lambda rng: {"options": OPTIONS[0]},
        lambda t, p: t.strip() in ("My answer is yes.", "My answer is no.", "My answer is maybe."),
        lambda s, p, ok, rng: rng.choice(["My answer is yes.", "My answer is no.", "My answer is maybe."]) if ok
        else " ".join(s),
    ),
)

__all__ = ["FAMILIES", "KEYWORDS", "fit_words", "widened"]
