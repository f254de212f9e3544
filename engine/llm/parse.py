"""Structured replies: JSON and code out of text written by a model, with errors that say what was wrong.

Models wrap JSON in code fences, put prose around it, or stop halfway; these helpers find the value anyway
when it is there, and otherwise return an error fit to show a person or to send back to the model
(`complete_json(..., reask=True)` does that once per failed reply).
"""

from __future__ import annotations

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


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing the one at `start`, skipping brackets inside strings."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def extract_json(text: str) -> tuple[Any, str | None]:
    """The first JSON object or array in a reply: a fenced block, the whole reply, or the first balanced
    {...} / [...] amid prose. Returns (value, None) or (None, what was wrong)."""
    for _language, body in _FENCE.findall(text):
        try:
            return json.loads(body), None
        except ValueError:
            continue
    try:
        return json.loads(text), None
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
            return json.loads(text[match.start() : end]), None
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


def extract_code(text: str, language: str = "python") -> tuple[str | None, str | None]:
    """Code from a reply: the first fenced block tagged `language` (or `py`), else the first untagged fenced
    block, else the whole reply if it compiles. A fence left open by a cut reply runs to the end."""
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
            return None, f"no fenced code block, and the reply is not Python: {err}"
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
