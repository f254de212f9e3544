"""Structured replies: JSON and code out of text written by a model, with errors that say what was wrong.

Models wrap JSON in code fences, put prose around it, or stop halfway; these helpers find the value anyway
when it is there, and otherwise return an error fit to show a person or to send back to the model
(`complete_json(..., reask=True)` does that once per failed reply).

The shapes real replies come in, seen on SmolLM2-135M-Instruct and larger chat models, each read by one helper
every stage shares: `<think>` blocks before the answer (`strip_think`), an opening line that only introduces it
("Sure! Here is the instruction:", `strip_preamble`), markdown bold around labels and words (`unbold`), numbered
or bulleted lists (`list_items`), a labelled line ("REWRITE: ...", `labelled`), remarks after the answer ("Note:
...", `strip_commentary`), fences with or without a language (`fenced_blocks`), and Python literals for JSON
(True/False/None, single quotes: `extract_json`), code amid prose (`code_in_prose`). `answer_text` applies the
ones that never remove an answer.
Recorded replies: tests/data/real_replies/.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from engine.llm.types import Request, Response

if TYPE_CHECKING:
    from engine.llm.client import LLM

Model = TypeVar("Model", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
# an unclosed block runs to the end (a reply cut while reasoning); a lone closing tag ends a block the chat
# template opened in the prompt
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)|\A.*?</think>", re.DOTALL | re.IGNORECASE)
# a line that only introduces the answer: an acknowledgement, or a "here is ..." ending in a colon
_PREAMBLE = re.compile(
    r"\A\s*(?:(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\b[^\n]{0,15}?[!.,:]?[ \t]*(?:\n|\Z)"
    r"|(?:(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\b[,!.]?\s*)?"
    r"(?:here(?:'s| is| are)|below is|i(?:'d| would) be happy to|i can help)\b[^\n]*?:[ \t]*(?:\n|\Z))",
    re.IGNORECASE,
)
_BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.DOTALL)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*\u2022+]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])[ \t]+(.*\S)[ \t]*$", re.MULTILINE)
# a paragraph after the answer that talks about it rather than being it
_COMMENTARY = re.compile(
    r"\n\s*\n\s*\(?(?:note|explanation|this (?:rewrite|answer|response|version|function|code|instruction)|"
    r"in this (?:rewrite|answer|response|version)|i hope|let me know|feel free|hope this)\b.*\Z",
    re.DOTALL | re.IGNORECASE,
)


def strip_think(text: str) -> str:
    """The reply without its `<think>...</think>` reasoning; a reply without one is returned as it is (its
    leading indentation may be a completion's function body)."""
    stripped = _THINK.sub("", text)
    return stripped.strip() if stripped != text else text


def strip_preamble(text: str) -> str:
    """The reply without opening lines that only introduce the answer ("Sure!", "Here is the rewrite:")."""
    while (m := _PREAMBLE.match(text)) and text[m.end():].strip():
        text = text[m.end():]
    return text.strip()


def unbold(text: str) -> str:
    """Markdown bold (`**x**`, `__x__`) removed, keeping the words."""
    return _BOLD.sub(r"\2", text)


def strip_commentary(text: str) -> str:
    """The reply without trailing paragraphs that comment on the answer ("Note: ...", "This rewrite ...")."""
    return _COMMENTARY.sub("", text).strip()


def answer_text(text: str) -> str:
    """The answer part of a reply: no reasoning block, no introducing line, no bold markers."""
    return unbold(strip_preamble(strip_think(text)))


def list_items(text: str) -> list[str]:
    """The items of the reply's numbered or bulleted lines (`1.`, `2)`, `-`, `*`, `a.`), markers removed."""
    return [m.group(1).strip() for m in _LIST_ITEM.finditer(unbold(text))]


def labelled(text: str, label: str) -> str | None:
    """What follows the last `LABEL:` in a reply (any case, markdown around it, after a preamble on the same
    line), fences removed; None when the label is missing or nothing follows it."""
    pattern = re.compile(rf"(?:^|(?<=\s))[>*_#]*{re.escape(label)}[*_]*\s*:[*_]*[ \t]*", re.IGNORECASE | re.MULTILINE)
    found = list(pattern.finditer(strip_think(text)))
    if not found:
        return None
    rest = strip_think(text)[found[-1].end():].strip()
    blocks = fenced_blocks(rest)
    if blocks and rest.startswith("```"):
        rest = blocks[0][1].strip()
    return rest or None


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, body) of every fenced block; the tag is "" for a bare fence; an unclosed fence (a cut
    reply) runs to the end."""
    return [(tag.lower(), body) for tag, body in _FENCE.findall(text)]


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing the one at `start`, skipping brackets inside strings (double-quoted,
    or single-quoted as in a Python literal)."""
    depth, quote, escaped = 0, "", False  # quote: the open string's quote character ('' outside strings)
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _loads(text: str) -> Any:
    """JSON, or the same value written as a Python literal (True/False/None, single quotes), as small models
    often write it; raises ValueError for anything else."""
    try:
        return json.loads(text)
    except ValueError as err:
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise err from None
        if not isinstance(value, (dict, list)):
            raise err from None
        return value


def extract_json(text: str) -> tuple[Any, str | None]:
    """The first JSON object or array in a reply: a fenced block, the whole reply, or the first balanced
    {...} / [...] amid prose; `<think>` blocks are skipped and Python literals accepted.
    Returns (value, None) or (None, what was wrong)."""
    text = strip_think(text)
    for _language, body in _FENCE.findall(text):
        try:
            return _loads(body), None
        except ValueError:
            continue
    try:
        return _loads(text), None
    except ValueError:
        pass
    first_error = None
    for match in re.finditer(r"[{\[]", text):
        end = _balanced_end(text, match.start())
        if end is None:
            first_error = first_error or (
                f"unterminated JSON starting at character {match.start()}: the reply "
                f"stops before its closing bracket (cut short?)"
            )
            continue
        try:
            return _loads(text[match.start() : end]), None
        except ValueError as err:
            first_error = first_error or f"invalid JSON starting at character {match.start()}: {err}"
    return None, first_error or "no JSON object or array in the reply"


def validation_error_text(err: ValidationError) -> str:
    """One line per problem, naming the field: 'score: Input should be a valid integer (got "high")'."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']} (got {e.get('input')!r})"
        for e in err.errors()
    )


def parse_json(text: str, model: type[Model]) -> tuple[Model | None, str | None]:
    """The reply's JSON validated against a pydantic model: (instance, None) or (None, what was wrong)."""
    value, error = extract_json(text)
    if error is not None:
        return None, error
    try:
        return model.model_validate(value), None
    except ValidationError as err:
        return None, f"JSON does not match the expected schema: {validation_error_text(err)}"


_CODE_START = re.compile(r"^(?:def |async def |class |import |from \S+ import |@)")
_CODE_GOES_ON = re.compile(
    r"^(?:\s|$|def |async def |class |import |from \S+ import |@|assert |#|return |[A-Za-z_]\w* ?=)")


def code_in_prose(text: str) -> str | None:
    """Unfenced Python amid prose ("Here is the function:\ndef f(x):\n    ...\nThis returns ..."): from the first
    line that starts a definition or an import to the last line that still reads as code (indented, blank, a
    definition, an assert, an assignment); None when no line starts code."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and _CODE_GOES_ON.match(lines[end]):
        end += 1
    return "\n".join(lines[start:end]).strip("\n") or None


def extract_code(text: str, language: str = "python") -> tuple[str | None, str | None]:
    """Code from a reply: the first fenced block tagged `language` (or `py`), else the first untagged fenced
    block, else the whole reply if it compiles, else (Python) the code amid its prose. A fence left open by a
    cut reply runs to the end; `<think>` blocks are skipped."""
    text = strip_think(text)
    blocks = _FENCE.findall(text)
    aliases = {language, "py"} if language == "python" else {language}
    for wanted in (aliases, {""}):
        for tag, body in blocks:
            if tag.lower() in wanted and body.strip():
                return body.strip("\n"), None
    if blocks:
        return None, f"the reply's code blocks are tagged {sorted({t for t, _ in blocks})}, not {language!r}"
    if language == "python":
        try:
            compile(text, "<reply>", "exec")
        except (SyntaxError, ValueError) as err:
            found = code_in_prose(text)
            return (found, None) if found else (None, f"no fenced code block, and the reply is not Python: {err}")
    return (text.strip("\n"), None) if text.strip() else (None, "the reply is empty")


# ------------------------------------------------------------------------------------------------ re-ask

REASK_PROMPT = "Your reply could not be used: {error}\nReply again with only the corrected JSON, no explanation."


@dataclass(frozen=True)
class Parsed(Generic[Model]):
    """A structured reply: `value` when it parsed, else `error`; `response` is the last reply received."""

    value: Model | None
    error: str | None
    response: Response
    reasked: bool = False


def _parse_response(response: Response, model: type[Model], reasked: bool) -> Parsed[Model]:
    if not response.ok:
        return Parsed(None, f"model call failed: {response.error}", response, reasked)
    value, error = parse_json(response.text or "", model)
    return Parsed(value, error, response, reasked)


def complete_json(
    llm: LLM, requests: Sequence[Request], model: type[Model], *, reask: bool = True, desc: str | None = None
) -> list[Parsed[Model]]:
    """Send requests and parse each reply as `model`. With `reask`, a reply that does not parse is sent back
    once, with the error, as a follow-up turn of the same conversation (same task and sample index)."""
    responses = llm.complete(requests, desc=desc)
    parsed = [_parse_response(r, model, reasked=False) for r in responses]
    if not reask:
        return parsed
    retry = [i for i, p in enumerate(parsed) if p.error is not None and p.response.ok]
    followups = [
        dataclasses.replace(
            requests[i],
            messages=[
                *requests[i].messages,
                {"role": "assistant", "content": parsed[i].response.text or ""},
                {"role": "user", "content": REASK_PROMPT.format(error=parsed[i].error)},
            ],
        )
        for i in retry
    ]
    if followups:
        answers = llm.complete(followups, desc=f"{desc or 're-ask'} (re-ask)")
        for i, response in zip(retry, answers, strict=True):
            parsed[i] = _parse_response(response, model, reasked=True)
    return parsed
