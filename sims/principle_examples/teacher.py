"""Sim handlers for the principle-examples experiment: a teacher that learns from the examples it is shown, a
student that answers plainly, failure analysis, prompt generation and an LLM judge. They read only the messages.

Rewrite (`principle_examples.rewrite`). The handler reads the target word from the principle (`spell "WORD"`),
the few-shot examples (`=== Example k ===` blocks) and the request under review. It checks each example's
rewrite with the real checker: `good` is the number that pass, `variety` the number of request kinds among them
(kinds: question, list, code, json, poem, acrostic, one_word, number, yes_no, sentence_rule, translation,
short_form; a keyword classifier), `same` whether a good example has the request's own kind. It follows the
principle with probability sigmoid(z),

    z = -1.3 + 0.35 ln(1 + good) + 0.22 min(variety, 8) + 0.9 same - hardness(kind) + 1.0 guided

where hardness is 0 for plain questions and up to 1.2 for code, JSON and acrostics (formats that pull away from
eight prose sentences), and `guided` is 1 when failures and their analysis are in the prompt. Otherwise its
rewrite misses in a realistic way: a dropped letter (ADAPIVE, ADPTIVE), two swapped, one sentence too many,
cut short, or the user's format kept. Sentences carry checker traps (3.5, e.g., Dr., ellipses, quotes, markdown
bullets and bold) that never change the intended letters; sim_truth keeps the intended letters, so the report
can measure how often the checker agrees. Now and then the teacher refuses (no REWRITE: label).

Prompt generation writes `count` requests of the failed requests' kinds from topic banks (so later rounds
repeat themselves, as models do), sometimes copies a failed request, and sometimes gives the wrong count,
broken JSON, a code fence or prose around it. Rates: `sim.principle_examples` in conf/llm/sim.yaml (defaults
below when the block is absent).
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any

from engine.llm import SimReply
from engine.llm.messages import last_message
from helpers.principle_examples.checker import acrostic_check, initials
from sims.reading import found, unrecognised

DEFAULTS = {
    "refusal_rate": 0.03,  # the teacher gives no rewrite
    "trap_rate": 0.25,  # a sentence carries a checker trap (decimal, abbreviation, ellipsis, quote)
    "copy_rate": 0.1,  # a generated request copies a failed one
    "wrong_count_rate": 0.15,  # prompt generation returns one too many or too few
    "broken_json_rate": 0.1,  # ... or JSON cut short
    "fence_rate": 0.3,  # ... or JSON in a code fence
    "prose_rate": 0.2,  # ... or prose around it
    "judge_error_rate": 0.05,  # the LLM judge gets the verdict wrong
}

KINDS = [  # (kind, pattern on the lower-cased request, hardness); the first match wins
    ("code", r"python|function|\bsql\b|query|javascript|\bcode\b|regex|script|html", 1.1),
    ("json", r"\bjson\b", 1.1),
    ("acrostic", r"acrostic", 1.2),
    ("poem", r"haiku|limerick|poem|couplet|rhym|verse|sonnet", 0.9),
    ("one_word", r"one word|single word|fill in the blank", 1.0),
    ("number", r"just the number|only the number|give just", 1.0),
    ("yes_no", r"yes or no", 0.9),
    ("list", r"\blist\b|numbered|bullet|steps|one per line", 0.55),
    ("sentence_rule", r"sentences?\b", 1.0),
    ("translation", r"translate", 0.9),
    ("short_form", r"tweet|slogan|headline|caption|characters", 0.5),
]

OPENERS = {
    "A": ["Above all,", "As a rule,", "At the start,", "Also,", "After that,"],
    "B": ["Beyond that,", "Besides,", "Broadly speaking,"], "C": ["Crucially,", "Clearly,", "Consider that"],
    "D": ["Done well,", "Do remember that", "Day to day,", "Depending on the case,"],
    "E": ["Even so,", "Eventually,", "Equally,", "Every so often,"], "F": ["First,", "Finally,", "For example,"],
    "G": ["Generally,", "Given all this,"], "H": ["Happily,", "Here,", "However,"],
    "I": ["In practice,", "Ideally,", "It helps that", "In short,"],
    "J": ["Just remember that", "Judging by experience,"],
    "K": ["Keep in mind that", "Knowing this,"], "L": ["Likewise,", "Lastly,", "Later on,"],
    "M": ["Moreover,", "Most of the time,"], "N": ["Next,", "Naturally,", "Now,"], "O": ["Of course,", "Often,"],
    "P": ["Put simply,", "Practically,", "Perhaps most usefully,", "People often find that"],
    "Q": ["Quite often,", "Quickly,"], "R": ["Remember that", "Realistically,"], "S": ["Still,", "Sometimes,"],
    "T": ["To be clear,", "Typically,", "Then,", "Together,", "The key point is that"],
    "U": ["Usually,", "Ultimately,"], "V": ["Very often,", "Viewed broadly,", "Valuable as it is,"],
    "W": ["When in doubt,", "With care,"], "X": ["X-rays aside,"], "Y": ["Yes,", "You will find that"],
    "Z": ["Zooming out,"],
}
CLAUSES = [
    "{topic} rewards a little patience", "the basics of {topic} are easier than they look",
    "small, steady choices about {topic} add up", "it pays to check one detail of {topic} at a time",
    "most questions about {topic} have a simple core", "a clear goal makes {topic} much easier",
    "experts on {topic} usually start with the fundamentals", "the details of {topic} matter more than expected",
    "you can test each idea about {topic} on a small scale first", "a short plan beats a long worry about {topic}",
]
TRAP_CLAUSES = [
    "about 3.5 percent of the effort in {topic} goes into preparation",
    "simple tools (e.g. a checklist) keep {topic} on track", "as Dr. Rivera likes to say, habits make {topic} easy",
    "{topic} takes time... and that is perfectly normal", "the U.S. guidelines on {topic} say much the same",
    "the phrase \"start small.\" sums up {topic}",
]
BANKS: dict[str, list[str]] = {
    "code": ["Write a Python function that reverses a string. Only output the code.",
             "Write a Python function that counts the vowels in a word. Only output the code.",
             "Give me a SQL query that lists all orders placed in 2023 from a table called orders.",
             "Write a JavaScript function that returns the largest number in an array. Code only.",
             "Write a Python function that checks whether a string is a palindrome. Only output the code.",
             "Give me a SQL query that counts the customers in each city from a table called customers."],
    "json": ["Respond only with a JSON object with the keys \"name\" and \"year\" for the first Moon landing.",
             "Reply with JSON only: the keys \"planet\" and \"moons\" for Mars.",
             "Return a JSON object with the keys \"author\" and \"title\" for the novel Dracula, nothing else."],
    "acrostic": ["Write an acrostic poem that spells the word RAIN.", "Write an acrostic poem for the word BOOK.",
                 "Write an acrostic that spells CALM."],
    "poem": ["Write a haiku about autumn leaves.", "Write a limerick about a forgetful dog.",
             "Write a two-line rhyming couplet about tea.", "Write a short poem about the night sky.",
             "Write a haiku about a mountain lake."],
    "one_word": ["Reply with one word: what is the opposite of hot?",
                 "Fill in the blank with one word: \"Actions speak louder than ___.\"",
                 "Answer in a single word: which planet is known as the Red Planet?"],
    "number": ["What is 12 times 14? Give just the number.", "How many legs does a spider have? Give just the number.",
               "What is 250 divided by 5? Only the number, please."],
    "yes_no": ["Answer yes or no: is a tomato a fruit?", "Answer yes or no: can penguins fly?",
               "Yes or no: is Mount Everest the tallest mountain above sea level?"],
    "list": ["List four kinds of renewable energy, one per line.",
             "Give me a numbered list of 3 steps to plant a tree.",
             "List five common kitchen herbs as bullet points.", "Give me a numbered list of steps to change a tire."],
    "sentence_rule": ["Explain photosynthesis in exactly two sentences.",
                      "Start every sentence with the word \"Clearly\" and explain why sleep matters.",
                      "Describe the water cycle in about 3 sentences.",
                      "Write four sentences about snow, each starting with the letter B."],
    "translation": ["Translate \"Where is the train station?\" into French. Output only the translation.",
                    "Translate \"Thank you very much\" into German. Only the translation."],
    "short_form": ["Write a tweet announcing a free museum day.", "Write a one-line slogan for a bicycle shop.",
                   "Write a headline for an article about urban gardens."],
    "question": ["What causes ocean tides?", "How do solar panels make electricity?",
                 "What is the difference between weather and climate?", "Why do leaves change color in autumn?"],
}


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def kind_of(request: str) -> tuple[str, float]:
    low = request.lower()
    for kind, pattern, hardness in KINDS:
        if re.search(pattern, low):
            return kind, hardness
    return "question", 0.0


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings or {})}


def _target(messages: list[dict[str, str]], task: str) -> str:
    """The word the principle spells, from whichever message states the principle."""
    for m in messages:
        if spelled := re.search(r'spell\w*\s+"([A-Za-z0-9]+)"', m["content"]):
            return spelled.group(1).upper()
    raise unrecognised(task, 'a principle spelling "<WORD>"', "\n".join(m["content"] for m in messages))


def _examples(text: str) -> list[tuple[str, str]]:
    """(human prompt, rewrite) of each few-shot example in a prompt."""
    out = []
    for body in re.findall(r"=== Example (\d+) ===\n(.*?)\n=== End of example \1 ===", text, re.DOTALL):
        human = re.search(r"^Human: (.*?)\n\nAssistant: ", body[1], re.DOTALL)
        rewrite = re.search(r"\n\nRewrite: (.*)\Z", body[1], re.DOTALL)
        if human and rewrite:
            out.append((human.group(1), rewrite.group(1)))
    return out


def _conversation(text: str, task: str) -> tuple[str, str]:
    """The request and the answer under review in a critique prompt."""
    tail = text.split("Conversation to review:", 1)[-1]
    human = found(task, "a 'Human: ... Assistant: ' conversation", r"Human: (.*?)\n\nAssistant: ", tail, re.DOTALL)
    answer = tail[human.end():]
    return human.group(1).strip(), answer[: answer.rfind("\n\n")].strip() if "\n\n" in answer else answer.strip()


def _topic(request: str) -> str:
    request = request.split(":", 1)[1] if ":" in request[:40] else request  # "Answer yes or no: is ..."
    text = re.split(r"[.?!:]", request.strip(), maxsplit=1)[0]
    text = re.sub(r"^(what|how|why|when|where|which|who|can you|could you|please|give me|tell me|write|explain|"
                  r"describe|list|suggest)\b( (is|are|do|does|did|i|a|an|the|some|me|about))*\s*", "", text,
                  flags=re.IGNORECASE)
    words = text.split()[:6]
    return " ".join(words).lower().strip("\"' ") or "this topic"


def _sentence(letter: str, topic: str, rng: random.Random, trap: bool) -> str:
    clause = rng.choice(TRAP_CLAUSES if trap else CLAUSES).format(topic=topic)
    if letter.isdigit():
        return f"{letter} points matter here, and {clause}."
    opener = rng.choice(OPENERS.get(letter, [f"{letter}-words aside,"]))
    sentence = f"{opener} {clause}"
    return sentence if sentence.endswith(".") else sentence + "."


def _missed(target: str, kind: str, answer: str, rng: random.Random) -> str:
    """The letters of a rewrite that misses the principle in one of the ways real rewrites do."""
    mode = rng.choices(["drop", "swap", "extra", "short", "format"], [0.4, 0.15, 0.2, 0.1, 0.15])[0]
    i = rng.randrange(1, len(target)) if len(target) > 1 else 0
    if mode == "drop" and len(target) > 1:
        return target[:i] + target[i + 1:]
    if mode == "swap" and len(target) > 2 and target[i - 1] != target[i]:
        return target[: i - 1] + target[i] + target[i - 1] + target[i + 1:]
    if mode == "short" and len(target) > 3:
        return target[: rng.randrange(2, len(target) - 1)]
    if mode == "format" and kind != "question":
        return initials(answer) or "?"
    return target[:i] + rng.choice("TAES") + target[i:]


def _render(letters: str, topic: str, rng: random.Random, trap_rate: float) -> str:
    sentences = [_sentence(letter, topic, rng, rng.random() < trap_rate) for letter in letters]
    style = rng.random()
    if style < 0.1:
        return "\n".join(f"- {s}" for s in sentences)
    if style < 0.2:
        return " ".join(re.sub(r"^(\S+)", r"**\1**", s) for s in sentences)
    if style < 0.3:
        return "\n".join(sentences)
    return " ".join(sentences)


def rewrite(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    s = _settings(settings)
    target = _target(messages, "principle_examples.rewrite")
    prompt = messages[1]["content"] if len(messages) > 1 else messages[0]["content"]
    request, answer = _conversation(prompt, "principle_examples.rewrite")
    kind, hardness = kind_of(request)
    good = [human for human, text in _examples(prompt) if acrostic_check(text, target).passed]
    kinds_shown = {kind_of(h)[0] for h in good}
    guided = "Analysis of those failures:" in prompt
    z = (-1.3 + 0.35 * math.log1p(len(good)) + 0.22 * min(len(kinds_shown), 8) + 0.9 * (kind in kinds_shown)
         - hardness + 1.0 * guided)
    p_follow = min(_sigmoid(z), 0.97)
    truth = {"kind": kind, "good_examples": len(good), "variety": len(kinds_shown), "guided": guided,
             "p_follow": round(p_follow, 4)}
    if rng.random() < s["refusal_rate"]:
        return SimReply("I can't rewrite this answer without breaking the format the user asked for, so I would "
                        "keep it as it is.", truth={**truth, "refused": True})
    followed = rng.random() < p_follow
    letters = target if followed else _missed(target, kind, answer, rng)
    text = _render(letters, _topic(request), rng, s["trap_rate"])
    label = rng.choice(["REWRITE:\n", "REWRITE: ", "**REWRITE:**\n"])
    preface = rng.choice(["", "", "Here is the revised answer.\n\n", "Sure. "])
    return SimReply(f"{preface}{label}{text}", truth={**truth, "followed": followed, "letters": letters})


def critique(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    target = _target(messages, "principle_examples.critique")
    request, answer = _conversation(last_message(messages), "principle_examples.critique")
    letters = initials(answer)
    if letters == target:
        return SimReply(f"The answer already follows the principle: its sentences begin with {', '.join(letters)}.")
    quality = rng.choice(["is accurate and useful", "answers the request", "is clear but brief",
                          "does what the user asked"])
    return SimReply(
        f"The answer {quality}, but it does not follow the principle. Its sentences begin with "
        f"{', '.join(letters) or 'nothing'}, spelling \"{letters}\" rather than \"{target}\". A compliant answer "
        f"needs exactly {len(target)} sentences beginning with {', '.join(target)}, in that order, even though the "
        f"request ({kind_of(request)[0].replace('_', ' ')}) asks for another format. The rewrite should keep the "
        f"substance of the answer and spread it over {len(target)} full sentences.",
        truth={"letters": letters})


def analyse(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    text = last_message(messages)
    target = _target(messages, "principle_examples.analyse")
    failures = re.findall(r"- Request: (.*?)\n\s*Letters produced: (\S*)", text)
    if not failures:
        raise unrecognised("principle_examples.analyse", "'- Request: ...' / 'Letters produced: ...' failures", text)
    kinds: dict[str, int] = {}
    short = extra = 0
    for request, letters in failures:
        k = kind_of(request)[0]
        kinds[k] = kinds.get(k, 0) + 1
        short += len(letters) < len(target)
        extra += len(letters) > len(target)
    ranked = sorted(kinds, key=lambda k: -kinds[k])
    names = ", ".join(k.replace("_", " ") for k in ranked) or "varied requests"
    return SimReply(
        f"Common patterns: the failures cluster on {names} requests, where the user's format pulls the rewrite "
        f"away from {len(target)} prose sentences. {short} rewrites have too few sentences and {extra} too many; "
        f"several drop or swap a letter in the middle of \"{target}\".\n\n"
        f"Suggestions: plan the {len(target)} initials before writing; count the sentences; turn lists, code and "
        f"verse into full sentences; never start with a title line.\n\n"
        f"Examples that would help: {', '.join(k.replace('_', ' ') for k in ranked[:3]) or 'format-heavy'} "
        f"requests answered in exactly {len(target)} sentences.", truth={"kinds": kinds})


def prompts(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    s = _settings(settings)
    text = last_message(messages)
    count = int(found("principle_examples.prompts", "the count asked for", r"exactly (\d+) new", text).group(1))
    failed = re.findall(r"- Request: (.*)", text)
    if not failed:
        raise unrecognised("principle_examples.prompts", "'- Request: ...' lines of failing requests", text)
    roll = rng.random()
    made = count + (rng.choice([-1, 1]) if roll < s["wrong_count_rate"] else 0)
    out = []
    for _ in range(max(made, 0)):
        source = rng.choice(failed)
        out.append(source.rstrip(".?!") + rng.choice(["", ".", "?"]) if rng.random() < s["copy_rate"]
                   else rng.choice(BANKS[kind_of(source)[0]]))
    body = json.dumps({"prompts": out}, indent=rng.choice([None, 2]))
    truth = {"asked": count, "given": made, "broken": False}
    if rng.random() < s["broken_json_rate"]:
        return SimReply(body[: len(body) * 2 // 3], truth={**truth, "broken": True})
    if rng.random() < s["fence_rate"]:
        body = f"```json\n{body}\n```"
    if rng.random() < s["prose_rate"]:
        body = f"Here are {made} new requests in the same spirit:\n\n{body}\n\nEach one stresses a format."
    return SimReply(body, truth=truth)


def student(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    request = last_message(messages).strip()
    kind, _ = kind_of(request)
    topic = _topic(request)
    plain = {
        "code": "```python\ndef solve(value):\n    return value[::-1]\n```",
        "json": '{"name": "Apollo 11", "year": 1969}',
        "acrostic": "Rain on the roof,\nAll night long,\nIn quiet streets,\nNo one awake.",
        "poem": "Leaves drift slowly down\ncolors fading into brown\nautumn wears its crown",
        "one_word": rng.choice(["Cold.", "Words.", "Mars."]),
        "number": str(rng.randint(8, 300)),
        "yes_no": rng.choice(["Yes.", "No."]),
        "list": "1. Solar\n2. Wind\n3. Hydro\n4. Geothermal",
        "sentence_rule": f"Clearly, {topic} matters. Clearly, it shapes daily life. Clearly, it is worth learning.",
        "translation": rng.choice(["Où est la gare ?", "Vielen Dank."]),
        "short_form": f"Big news: {topic} is here! Join us this weekend. #Community",
        "question": f"Good question. In short, {topic} comes down to a few basic ideas. Most sources agree on "
                    f"the main points, and a little reading makes them clear.",
    }
    return SimReply(plain[kind], truth={"kind": kind})


def judge(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    s = _settings(settings)
    content = last_message(messages)
    text = found("principle_examples.judge", "the text between <<< and >>>", r"<<<\n(.*)\n>>>", content,
                 re.DOTALL).group(1)
    verdict = acrostic_check(text, _target(messages, "principle_examples.judge"))
    passed = verdict.passed != (rng.random() < s["judge_error_rate"])
    return SimReply(f"Letters: {verdict.observed}\nVerdict: {'PASS' if passed else 'FAIL'}",
                    truth={"passed": verdict.passed})


HANDLERS = {"rewrite": rewrite, "critique": critique, "analyse": analyse, "prompts": prompts, "answer": student,
            "judge": judge}
