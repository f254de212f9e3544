"""Sim handlers for prompt optimisation: an evaluator whose skill depends on the instruction it is given, and a
generator that mutates and combines the instructions shown in a meta prompt.

Evaluator (`prompt_opt.evaluate`). The system message is the candidate instruction; the user message holds a
passage, a question and options `A) ...` to `D) ...`. The handler reads these features of the instruction:

    coherence         share of its words that are common English words, plural and -ed/-ing forms and the
                      letters A-D included (0..1); gibberish scores near 0
    asks_letter       asks for one letter ("single letter", "only the letter", "A, B, C or D")
    refers_passage    mentions the passage / story / text / narrative / fable
    mentions_options  mentions the options / choices
    names_task        mentions the moral / proverb / lesson / meaning
    asks_care         asks to read carefully / consider / think
    asks_explanation  asks to explain / justify / write a paragraph
    creative          asks to be creative or imaginative

Knowledge: z = -1.2 + 1.6 coherence + 0.7 refers_passage + 0.4 mentions_options + 0.6 names_task
+ 0.4 asks_care - 0.6 creative + d, where d ~ N(0, 0.7) is the question's difficulty (fixed per question).
The letter distribution q over A-D has logit 1.4 z + 1 for the correct letter and 0 for the others, each plus
N(0, 0.6) noise; the answer letter is drawn from q sharpened (q^2), because the handler does not see the
temperature. The first token's top_logprobs carry q: sharp when the reply starts with the letter, flatter
(q^0.6) when it starts with a word.

Format: with probability 0.9 (1 - coherence) the model is confused and answers without a letter. Otherwise it
replies with exactly one letter with probability sigmoid(-2.2 + 3.6 asks_letter + 0.6 mentions_options
- 2.5 asks_explanation) (one time in ten that letter gets a full stop); else it writes a sentence naming the
letter (more often when asked to explain), `B) option text`, or prose with no letter at all.

Generator (`prompt_opt.propose`). It finds the instructions in the meta prompt (`Prompt: "<json>"` lines of
the original meta prompt, `text:`/`score:` blocks of the OPRO one), prefers those with lower cross-entropy or
higher score, and writes a new one: crossover of two parents, a phrase added from its repertoire (mostly
helpful, some harmful), a sentence dropped, gibberish words rewritten, or synonyms swapped. Like a real model
it sometimes adds a label (`MODEL_PROMPT:`), a preamble, quotes or <INS> tags, and now and then echoes the
meta prompt, rambles past any sane length or says nothing useful. Rates: `sim.prompt_opt` in
conf/llm/sim.yaml (defaults below when the block is absent).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from typing import Any

from engine.llm import SimReply, TokenLogprob
from engine.llm.messages import last_message
from sims.reading import unrecognised

LETTERS = "ABCD"
DEFAULTS = {
    "echo_rate": 0.06,  # the generator repeats the meta prompt
    "label_rate": 0.35,  # ... prefixes MODEL_PROMPT: or similar
    "preamble_rate": 0.2,  # ... opens with "Here is an improved prompt:"
    "empty_rate": 0.03,  # ... gives no prompt at all
    "overlong_rate": 0.03,  # ... rambles on
}

COMMON_WORDS = set("""
a an the and or but if then so of to in on at by for with from about as into than that this these those it its
is are be been being was were do does did done have has had will would should could can may might must shall
you your yours we our us they them their he she his her i me my one each every all any some no not only just
also very more most less best better good well first last next before after again never always what which who
whom whose why how when where answer answers answered answering question questions read reading reader
carefully careful consider considering think thinking step steps choose choosing chose pick select option
options choice choices letter letters single correct right wrong true false story stories passage passages
text texts narrative narratives fable fables moral morals proverb proverbs lesson lessons meaning mean means
teach teaches taught illustrate illustrates best describes describe summarise summarize main idea point
following given below above reply respond response write give say state tell output return nothing else
explain explanation reasoning reason detail details paragraph short long brief concise clearly clear
helpful assistant expert task tasks model please make sure sentence sentences word words format exactly
creative imaginative deep breath take careful character characters happen happens happened event events
based decide deciding decision back refer referring look find found understand understanding
""".split())

_FEATURES = {
    "asks_letter": r"\b(single|one|only the|just the)\s+letter\b|\bletter (only|of the)\b|\bA, B, C,? or D\b",
    "refers_passage": r"\b(passage|story|stories|text|narrative|fable)\b",
    "mentions_options": r"\b(option|options|choice|choices)\b",
    "names_task": r"\b(moral|proverb|lesson|meaning)\b",
    "asks_care": r"\b(carefully|careful|consider|think)\b",
    "asks_explanation": r"\b(explain|explanation|justify|paragraph|reasoning)\b",
    "creative": r"\b(creative|imaginative)\b",
}


def prompt_features(prompt: str) -> dict[str, float]:
    """The features of an instruction the evaluator reacts to (see the module docstring)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", prompt)]
    known = sum(1 for w in words if w in COMMON_WORDS or re.sub(r"(s|es|ed|ing)$", "", w) in COMMON_WORDS
                or w in ("b", "c", "d"))
    features = {"coherence": known / len(words) if words else 0.0}
    for name, pattern in _FEATURES.items():
        features[name] = 1.0 if re.search(pattern, prompt, re.IGNORECASE) else 0.0
    return features


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _difficulty(question: str) -> float:
    seed = hashlib.sha256(question.encode()).digest()
    return random.Random(seed).gauss(0, 0.7)


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def _first_token(token: str, letters: dict[str, float], extra: dict[str, float]) -> TokenLogprob:
    top = {**{x: math.log(p) for x, p in letters.items()}, **{t: math.log(p) for t, p in extra.items()}}
    top = dict(sorted(top.items(), key=lambda kv: -kv[1]))
    return TokenLogprob(token, top[token], top)


def evaluate(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Answer a multiple-choice question under the system message's instruction (see the module docstring)."""
    instruction, question = last_message(messages, "system"), last_message(messages, "user")
    options = dict(re.findall(r"^([A-D])\) (.*)$", question, re.MULTILINE))
    if not options:
        raise unrecognised("prompt_opt.evaluate", "options 'A) ...' to 'D) ...' in the user message", question)
    f = prompt_features(instruction)
    z = (-1.2 + 1.6 * f["coherence"] + 0.7 * f["refers_passage"] + 0.4 * f["mentions_options"]
         + 0.6 * f["names_task"] + 0.4 * f["asks_care"] - 0.6 * f["creative"] + _difficulty(question))
    correct = _correct_letter(question)
    logits = {x: rng.gauss(0, 0.6) + (1.4 * z + 1 if x == correct else 0) for x in LETTERS}
    q = _normalised({x: math.exp(v) for x, v in logits.items()})
    sharp = _normalised({x: p * p for x, p in q.items()})
    letter = rng.choices(list(sharp), weights=list(sharp.values()))[0]
    p_strict = _sigmoid(-2.2 + 3.6 * f["asks_letter"] + 0.6 * f["mentions_options"] - 2.5 * f["asks_explanation"])
    option_text = options.get(letter, "")
    if rng.random() < 0.9 * (1 - f["coherence"]):
        style, text = "confused", rng.choice([
            "I'm sorry, I don't understand the instruction. Could you rephrase it?",
            "It seems the message is garbled. What would you like me to do with this story?",
            "I am not sure what you are asking for here."])
    elif rng.random() < p_strict:
        style, text = "letter", letter + ("." if rng.random() < 0.1 else "")
    else:
        draw = rng.random() - 0.3 * f["asks_explanation"]
        if draw < 0.4:
            style, text = "sentence", rng.choice([
                f"The answer is {letter}.", f"Answer: ({letter})",
                f"The correct answer is {letter}, because the story shows that {option_text.lower().rstrip('.')}."])
        elif draw < 0.65:
            style, text = "labelled", f"{letter}) {option_text}"
        else:
            style, text = "no_letter", f"The story shows that {option_text.lower().rstrip('.')}."
    if style in ("letter", "labelled"):
        first = _first_token(letter, {x: 0.96 * p for x, p in q.items()}, {" " + letter: 0.03 * q[letter], "The": 0.01})
    else:
        flat = _normalised({x: p ** 0.6 for x, p in q.items()})
        word = text.split()[0]
        first = _first_token(word, {x: 0.08 * p for x, p in flat.items()}, {word: 0.9})
    # a sentence naming the letter ("The answer is B.") carries q at the letter's token, as a real model's does
    rest = [_first_token(t, {x: 0.96 * p for x, p in q.items()}, {} if t == letter else {t: 0.03 * q[letter]})
            if style == "sentence" and t.strip(" ().,:") == letter else TokenLogprob(t, -0.05, {t: -0.05})
            for t in text.split()[1:]]
    truth = {"style": style, "letter": None if style in ("no_letter", "confused") else letter,
             "p_correct": round(q[correct], 4), "features": f}
    return SimReply(text, truth=truth, logprobs=[first, *rest])


def _correct_letter(question: str) -> str:
    """The sim's stand-in for a model's knowledge: which option is right. The dataset's answer key never
    reaches the model, so the sim recognises the right option by its text, from the shipped data."""
    options = tuple(o.strip() for o in re.findall(r"^[A-D]\) (.*)$", question, re.MULTILINE))
    return _answer_book().get(options, LETTERS[int(hashlib.sha256(question.encode()).hexdigest(), 16) % 4])


_ANSWERS: dict[tuple[str, ...], str] = {}


def _answer_book() -> dict[tuple[str, ...], str]:
    if not _ANSWERS:
        from engine.config import PROJECT_ROOT

        for line in (PROJECT_ROOT / "sample_data" / "multiple_choice.jsonl").read_text().splitlines():
            item = json.loads(line)
            opts = item.get("options") or {}
            _ANSWERS[tuple(str(opts.get(x, "")).strip() for x in LETTERS)] = item.get("answer")
    return _ANSWERS


# -------------------------------------------------------------------------------------------------- generator

HELPFUL = [
    "Read the story carefully.",
    "Answer with a single letter: A, B, C or D.",
    "Reply with only the letter of the correct option.",
    "Consider every option before choosing.",
    "Pick the option that best states the moral of the story.",
    "Think about what lesson the narrative teaches.",
    "Refer back to the passage when deciding.",
]
HARMFUL = [
    "Be creative.",
    "Explain your reasoning in a short paragraph.",
    "You are a helpful assistant.",
    "Take a deep breath.",
]
SYNONYMS = {"story": "passage", "passage": "text", "choose": "pick", "option": "choice", "carefully": "closely"}


def _shown_prompts(meta: str) -> list[tuple[str, float]]:
    """(instruction, goodness) pairs found in a meta prompt; goodness is higher for better instructions."""
    found: dict[str, list[float]] = {}
    for prompt, ce in re.findall(r'^Prompt: (".*")\n(?:.*\n){0,3}?Cross-entropy: ([0-9.]+)', meta, re.MULTILINE):
        try:
            found.setdefault(json.loads(prompt), []).append(-float(ce))
        except ValueError:
            continue
    for prompt, score in re.findall(r"^text:\n(.*?)\nscore:\n([0-9.]+)", meta, re.MULTILINE | re.DOTALL):
        found.setdefault(prompt.strip(), []).append(float(score) / 10)
    return [(p, sum(v) / len(v)) for p, v in found.items()]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _mutate(parents: list[str], rng: random.Random) -> str:
    first = _sentences(parents[0])
    if prompt_features(parents[0])["coherence"] < 0.5 or not first:
        first = ["Answer the question about the story."]  # a model rewrites gibberish into plain words
    sentences = list(first)
    for _ in range(rng.choice([1, 1, 2])):
        op = rng.random()
        if op < 0.3 and len(parents) > 1:
            sentences += [s for s in _sentences(parents[1])
                          if s not in sentences and prompt_features(s)["coherence"] >= 0.5]
        elif op < 0.75:
            phrase = rng.choice(HELPFUL) if rng.random() < 0.75 else rng.choice(HARMFUL)
            if phrase not in sentences:
                sentences.insert(rng.randrange(len(sentences) + 1), phrase)
        elif op < 0.9 and len(sentences) > 1:
            sentences.pop(rng.randrange(len(sentences)))
        else:
            i = rng.randrange(len(sentences))
            for a, b in SYNONYMS.items():
                sentences[i] = re.sub(rf"\b{a}\b", b, sentences[i])
    return " ".join(sentences)


def propose(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Write a new instruction from those shown in the meta prompt (see the module docstring)."""
    rates = {**DEFAULTS, **settings}
    meta = last_message(messages, "user")
    shown = sorted(_shown_prompts(meta), key=lambda pg: -pg[1])
    if not shown:  # the pool always holds instructions: none read means the meta prompt's format changed
        raise unrecognised("prompt_opt.propose", "instructions with their scores ('Prompt: \"...\"' and "
                                                 "'Cross-entropy:' lines, or 'text:'/'score:' blocks)", meta)
    opro = "<INS>" in meta
    draw = rng.random()
    if draw < rates["echo_rate"]:
        return SimReply(meta, truth={"form": "echo"})
    draw -= rates["echo_rate"]
    if draw < rates["empty_rate"]:
        return SimReply(rng.choice(["MODEL_PROMPT:", "<INS></INS>", '""', "```\n```"]), truth={"form": "empty"})
    draw -= rates["empty_rate"]
    # parents: usually the best shown, sometimes another one; the second parent is any other shown
    ranked = [p for p, _ in shown]
    best = ranked[0] if rng.random() < 0.7 else rng.choice(ranked)
    others = [p for p in ranked if p != best]
    parents = [best, *([rng.choice(others)] if others else [])]
    new = _mutate(parents, rng)
    if draw < rates["overlong_rate"]:
        new = new + " " + " ".join(rng.choice(HELPFUL + HARMFUL) for _ in range(40))
        form = "overlong"
    else:
        form = "prompt"
    if opro:
        text = f"<INS>{new}</INS>" if rng.random() < 0.8 else new
    elif rng.random() < rates["label_rate"]:
        text = f"MODEL_PROMPT: {new}"
    else:
        text = new
    if rng.random() < rates["preamble_rate"]:
        text = f'Here is an improved prompt:\n\n"{text}"' if rng.random() < 0.5 else f"Sure!\n{text}"
    return SimReply(text, truth={"form": form, "prompt": new, "parents": parents})


HANDLERS = {"evaluate": evaluate, "propose": propose}
