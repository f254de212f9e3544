"""Reading AutoIF's model replies as real models write them: `<think>` blocks, list markup, bold labels, chatty
preambles, Python-style literals, and verifier replies that are Python code instead of the requested JSON.

AutoIF-specific, pending shared helpers in engine.llm.parse: each function here reads one line or one reply
shape and says nothing about what the stage does with it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from engine.llm import Request, Response
from engine.llm.parse import extract_code, extract_json

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
# "12. ", "12) ", "(12) ", "**12.** ", "- ", "* ", "• ", "+ ", "– ", and "- 1. " (a bullet and a number)
_LIST_MARK = re.compile(r"^\s*(?:[-*•+–]\s+|\(?\*{0,2}\d{1,3}\*{0,2}[.):]\*{0,2}(?!\d)\s*|\(\d{1,3}\)\s*)+")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_|`)(.+)\1$")
_PREAMBLE = re.compile(r"^(?:sure|certainly|of course|okay|ok|absolutely|great|here (?:is|are)|here's|below is|"
                       r"the (?:instruction|answer)(?: (?:is|would be))?)\b", re.IGNORECASE)
_LABEL = re.compile(r"^\W{0,4}(?:(?:the |final |rewritten )?(?:instruction|answer|constraint))\W{0,4}:\W{0,4}\s*",
                    re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "`": "`"}


def without_think(text: str) -> str:
    """The reply without its reasoning: `<think>…</think>` blocks removed, an unclosed one to the end; a reply
    whose opening tag the server dropped keeps what follows the last `</think>`."""
    text = _THINK.sub("", text)
    return text.rpartition("</think>")[2] if "</think>" in text.lower() else text


def without_list_marker(line: str) -> str:
    """A line without list markup in front and emphasis around it: '**12.** Use commas.' -> 'Use commas.'"""
    text = _LIST_MARK.sub("", line).strip()
    while (found := _EMPHASIS.match(text)) is not None:
        text = found.group(2).strip()
    return text


def without_wrapping_quotes(text: str) -> str:
    """Text without a pair of quotes around all of it; a quote that belongs to the sentence stays
    ('End with "Thank you."' keeps its closing quote)."""
    text = text.strip()
    while len(text) > 1 and (close := _QUOTES.get(text[0])) == text[-1]:
        inner = text[1:-1]
        balanced = inner.count(close) % 2 == 0 if close == text[0] else inner.count(text[0]) == inner.count(close)
        if not balanced:
            break
        text = inner.strip()
    return text


def is_preamble(line: str) -> bool:
    """A line that introduces the answer rather than being it: 'Sure! Here is the instruction:'."""
    plain = without_list_marker(line)
    return plain.endswith(":") or (_PREAMBLE.match(plain) is not None and len(plain.split()) <= 8)


def instruction_line(reply: str) -> str:
    """The instruction a back-translation reply states: the first line that is not a preamble, without its
    'Instruction:' label (bold or not), list markup, emphasis or wrapping quotes. A preamble that carries the
    instruction after its colon ('Here is the instruction: Use no commas.') gives that part."""
    for line in without_think(reply).splitlines():
        text = without_list_marker(line.strip().lstrip(">").strip())
        if not text or text.startswith("```"):
            continue
        head, colon, tail = text.partition(":")
        if colon and (_LABEL.match(text) or _PREAMBLE.match(head)) and tail.strip(" *_"):
            text = without_list_marker(_LABEL.sub("", text) if _LABEL.match(text) else tail.strip(" *_"))
        elif is_preamble(text):
            continue
        text = without_wrapping_quotes(text)
        if text:
            return text
    return ""


# ------------------------------------------------------------------------------------------------ verifiers

_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def json_with_python_literals(text: str) -> tuple[Any, str | None]:
    """extract_json, then again with Python's True/False/None outside strings read as JSON's."""
    value, error = extract_json(text)
    if error is None:
        return value, None
    converted = re.sub(r'"(?:\\.|[^"\\])*"|\b(True|False|None)\b',
                       lambda m: _PY_LITERALS[m.group(1)] if m.group(1) else m.group(0), text)
    if converted == text:
        return None, error
    value, second = extract_json(converted)
    return (value, None) if second is None else (None, error)


def _is_case_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(c, dict) and "input" in c for c in value)


def _assert_case(test: ast.expr) -> dict | None:
    """{"input", "output"} from `evaluate(X)`, `not evaluate(X)`, `evaluate(X) == True`, `... is False`."""
    expected = True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, expected = test.operand, False
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
        right = test.comparators[0]
        if not (isinstance(right, ast.Constant) and isinstance(right.value, bool)):
            return None
        test, expected = test.left, right.value == expected
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "evaluate"
            and len(test.args) == 1):
        return None
    value = _text_value(test.args[0])
    return {"input": value, "output": expected} if isinstance(value, str) else None


_MAX_CASE_CHARS = 100_000


def _text_value(node: ast.expr, depth: int = 0) -> Any:
    """The value of a test input written as text arithmetic ('word ' * 90, ' '.join(['w'] * 90), 'a' + 'b'),
    computed on the syntax tree, never executed; None for anything else or anything huge."""
    if depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.List):
        items = [_text_value(x, depth + 1) for x in node.elts]
        return items if all(isinstance(x, str) for x in items) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _text_value(node.left, depth + 1), _text_value(node.right, depth + 1)
        if isinstance(node.op, ast.Add) and type(left) is type(right) and not isinstance(left, int):
            value = left + right
        elif isinstance(node.op, ast.Mult) and isinstance(right, int) and isinstance(left, (str, list)):
            value = left * right if len(left) * right <= _MAX_CASE_CHARS else None
        else:
            return None
        return value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and len(node.args) == 1 and not node.keywords):
        separator, items = _text_value(node.func.value, depth + 1), _text_value(node.args[0], depth + 1)
        if isinstance(separator, str) and isinstance(items, list):
            return separator.join(items)
    return None


def _split_code(source: str) -> tuple[str, list[dict]]:
    """(the module without its tests, the cases its asserts state). Top-level asserts, prints and an
    `if __name__ == "__main__":` block are tests, not the verifier: left in, a mislabelled assert would crash the
    function on every response."""
    tree = ast.parse(source)
    lines, keep, cases = source.splitlines(), [], []
    for node in tree.body:
        tests = [node] if isinstance(node, ast.Assert) else []
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            tests = [n for n in ast.walk(node) if isinstance(n, ast.Assert)]
        elif not tests and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            keep.append("\n".join(lines[node.lineno - 1 - len(getattr(node, "decorator_list", [])):node.end_lineno]))
            continue
        cases += [c for t in tests if (c := _assert_case(t.test)) is not None]
    return "\n\n".join(keep) + "\n", cases


def _python_blocks(reply: str) -> list[str]:
    return re.findall(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", reply, re.DOTALL | re.IGNORECASE)


def _code_of(reply: str) -> str | None:
    """The Python module of a reply: a fenced block that defines evaluate, else a bare module that starts at the
    first import or def line and runs to the last line that still compiles."""
    for body in _python_blocks(reply):
        if "def evaluate" in body:
            return body
    code, _ = extract_code(reply)
    if code is not None and "def evaluate" in code:
        return code
    lines = reply.splitlines()
    start = next((i for i, x in enumerate(lines) if re.match(r"(?:import |from \w+ import |def evaluate\b)", x)), None)
    if start is None:
        return None
    for end in range(len(lines), start, -1):
        candidate = "\n".join(lines[start:end])
        if "def evaluate" not in candidate:
            return None
        try:
            ast.parse(candidate)
        except SyntaxError:
            continue
        return candidate
    return None


def verifier_reply(reply: str) -> tuple[str | None, list | None, str | None]:
    """(code, cases, None) from a verifier reply, or (None, None, what was wrong). The requested JSON
    object first (Python literals accepted); failing that, the code (fenced, or a bare `def`) with cases from a
    JSON list elsewhere in the reply or from its asserts."""
    text = without_think(reply)
    value, json_error = json_with_python_literals(text)
    if isinstance(value, dict) and ("func" in value or "cases" in value):
        code, cases = value.get("func"), value.get("cases")  # the reply format's "func" is the verifier's code
        if not isinstance(code, str) or "def evaluate" not in code:
            return None, None, "'func' is missing or does not define evaluate(response)"
        if not isinstance(cases, list) or not cases:
            return None, None, "'cases' is missing or not a non-empty list"
        return code, cases, None
    block = _code_of(text)
    if block is None:
        found = f"found {type(value).__name__}" if value is not None else json_error
        return None, None, f"expected a JSON object with 'func' and 'cases' or Python code defining evaluate, {found}"
    try:
        code, cases = _split_code(block)
    except SyntaxError as err:
        return None, None, f"the reply's code does not parse: {err}"
    rest = text.replace(block, "")
    listed, _ = json_with_python_literals(rest)
    if _is_case_list(listed):
        cases = listed
    elif isinstance(listed, dict) and _is_case_list(listed.get("cases")):
        cases = listed["cases"]
    for block in _python_blocks(rest) if not cases else []:  # asserts in a block of their own
        try:
            cases += _split_code(block)[1]
        except SyntaxError:
            continue
    if not cases:
        return None, None, "the reply has code defining evaluate but no test cases (no JSON list of cases, no asserts)"
    return code, cases, None



# ------------------------------------------------------------------------------------------------ NLI

_NLI_WORDS = {"entailment": "entailment", "entails": "entailment", "entailed": "entailment", "entail": "entailment",
              "neutral": "neutral", "neither": "neutral", "contradiction": "contradiction",
              "contradicts": "contradiction", "contradictory": "contradiction", "contradict": "contradiction"}
_NLI_WORD = re.compile(r"\b(" + "|".join(sorted(_NLI_WORDS, key=len, reverse=True)) + r")\b")
# a label word right after one of these (a filler word or two between) is a label the reply rules out:
# "not a contradiction", "doesn't entail", "neither entails nor contradicts"
_NEGATION = re.compile(r"(?:\b(?:not|no|never|neither|nor|without)|n't)\s+"
                       r"(?:(?:a|an|the|really|quite|any|necessarily|clearly)\s+){0,2}$")
_COMMITS = re.compile(r"\b(?:answer|label|verdict|relationship|conclusion|classification)\b[^.\n]{0,20}?"
                      r"(?:is|:|=)\W*(entailment|neutral|contradiction|neither)\b")


def nli_label(reply: str) -> str | None:
    """The label an NLI reply commits to: a stated answer ('Answer: neutral', 'so the label is entailment'), else
    the one label it mentions without ruling it out ('Not a contradiction: entailment.' -> entailment;
    'Neither.' -> neutral, the prompt's word for it). None when it names no label or several it does not rule out."""
    text = without_think(reply).lower().replace("*", "")
    stated = _COMMITS.findall(text)
    if stated:
        return _NLI_WORDS[stated[-1]]
    found = set()
    for match in _NLI_WORD.finditer(text):
        word = match.group(1)
        # "neither" is the prompt's word for neutral ("or neither"), and rules out the labels after it
        if word != "neither" and _NEGATION.search(text[max(0, match.start() - 40):match.start()]):
            continue
        found.add(_NLI_WORDS[word])
    return found.pop() if len(found) == 1 else None


# ------------------------------------------------------------------------------------------------ judge

# the whole line, as the prompt asks for it: "Score: 8", "**Score:** 8/10", "Final score = 7.5", "### Score: 9."
_SCORE_LINE = re.compile(r"^(?:final |overall )?score\s*(?:[:=-]|is)?\s*(\d+(?:\.\d+)?)"
                         r"\s*(?:(?:/|out of)\s*10)?\s*\.?$", re.IGNORECASE)
_BARE_SCORE_LINE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:/|out of)\s*10\s*\.?$", re.IGNORECASE)


def score_line(reply: str) -> float | None:
    """The judge's score from the line the prompt asked for ("Score: N" on its own line; the last such line, so
    trailing commentary after it is fine), or a line that is only "N/10"; never a number met in prose ("not
    suitable for a score of 10"). None when there is no such line or the score lies outside 0..10."""
    lines = [re.sub(r"[*_`#>]", "", x).strip() for x in without_think(reply).splitlines()]
    for pattern in (_SCORE_LINE, _BARE_SCORE_LINE):
        found = [m.group(1) for x in lines if (m := pattern.match(x))]
        if found:
            score = float(found[-1])
            return score if 0 <= score <= 10 else None
    return None


# ------------------------------------------------------------------------------------------------ re-ask


class ReadAsJSON:
    """A model role whose replies `read` can read (to a JSON value; None when it cannot) come back as that JSON,
    so engine.llm.parse.complete_json re-asks only the replies nothing here can read (code with asserts is not
    JSON, yet it holds a verifier and its cases)."""

    def __init__(self, llm, read: Callable[[str], Any]) -> None:
        self.llm, self.read = llm, read

    def complete(self, requests: Sequence[Request], desc: str | None = None) -> list[Response]:
        out = []
        for response in self.llm.complete(requests, desc=desc):
            value = self.read(response.text) if response.ok else None
            out.append(response if value is None else dataclasses.replace(response, text=json.dumps(value)))
        return out


def verifier_json(reply: str) -> dict | None:
    """The {"func", "cases"} object (AutoIF's reply format) a verifier reply holds in any shape verifier_reply
    reads, or None."""
    code, cases, error = verifier_reply(reply)
    return None if error else {"func": code, "cases": cases}


def case_list(reply: str) -> list | None:
    """A reply's JSON list of {"input", "output"} objects (fenced, amid prose, with Python literals), or None."""
    value, _ = json_with_python_literals(without_think(reply))
    if isinstance(value, dict) and _is_case_list(value.get("cases")):
        value = value["cases"]
    return value if _is_case_list(value) else None
