"""The principle as a config object, and how a text is judged against it: a Python checker named in config, or
an LLM judge. Shared by every stage that checks a rewrite (library_seed, evaluation, candidates_checked)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine.config import ConfigError
from engine.config_keys import did_you_mean
from engine.context import Context
from engine.graph import import_callable
from engine.llm import Request
from engine.prompt_template import TemplateError, TemplatePath, check_placeholders, fill, read_template

STATEMENT_PLACEHOLDERS = ("target", "letters", "length")
JudgeTemplate = TemplatePath(required=["principle", "text"])


class CheckerConfig(BaseModel):
    """`python`: `fn(text, target) -> Check(passed, observed)`; `llm_judge`: the `role` model answers
    `judge_template` with a `Verdict: PASS|FAIL` line (and `Letters: ...`, kept as what it observed). Both are
    checked at start-up, before any model call: the function imports, and the role is one the stage declares."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["python", "llm_judge"]
    fn: str = "helpers.principle_examples.checker:acrostic_check"
    judge_template: JudgeTemplate = "stages/principle_examples/prompts/judge.txt"
    role: str = Field("teacher", validate_default=True)

    @field_validator("fn")
    @classmethod
    def _fn_imports(cls, fn: str, info: ValidationInfo) -> str:
        if info.data.get("kind") == "python":
            try:
                import_callable(fn, "checker.fn")
            except ConfigError as err:  # raised again as the field's error: reported at the key the user typed
                raise ValueError(err.message) from None
        return fn

    @field_validator("role")
    @classmethod
    def _role_is_declared(cls, role: str, info: ValidationInfo) -> str:
        declared = (info.context or {}).get("roles")  # the stage's roles (engine.graph), when built from config
        if declared is not None and role not in declared:
            hint = did_you_mean(role, declared)
            raise ValueError(f"role {role!r} is not a model role of this stage (llm: [{', '.join(declared)}]), so "
                             "the checker could not call it" + (f"; {hint}" if hint.startswith("did you mean") else ""))
        return role


class Principle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    target: str = Field(min_length=1)  # for the acrostic: the word the sentences' initials spell
    text: str = Field(min_length=1)  # may use {target}, {letters} and {length}
    critique_request: str = Field(min_length=1)
    rewrite_request: str = Field(min_length=1)
    checker: CheckerConfig

    @field_validator("text")
    @classmethod
    def _text_fills(cls, value: str) -> str:
        try:
            check_placeholders(value, "principle.text", optional=STATEMENT_PLACEHOLDERS)
        except TemplateError as err:
            raise ValueError(str(err).removeprefix("principle.text: ")) from err
        return value

    @field_validator("target")
    @classmethod
    def _target_is_a_word(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]+", value):
            raise ValueError(f"target must be letters or digits only, found {value!r}")
        return value.upper()

    def statement(self) -> str:
        """The principle's text with its target filled in, as every prompt shows it."""
        return fill(self.text, "principle.text", target=self.target, letters=", ".join(self.target),
                    length=len(self.target))


@dataclass(frozen=True)
class Verdict:
    passed: bool | None  # None: the judge's reply could not be read
    observed: str  # what the checker saw (the letters produced), or the unreadable reply
    llm_key: str = ""


_VERDICT = re.compile(r"verdict\W*\s*(pass|fail)", re.IGNORECASE)
_LETTERS = re.compile(r"letters\W*\s*([A-Za-z0-9?, -]*)", re.IGNORECASE)


def _judge_reply(text: str) -> tuple[bool | None, str]:
    verdicts = _VERDICT.findall(text)
    if not verdicts:
        return None, text.strip()[:300]
    letters = _LETTERS.search(text)
    observed = re.sub(r"[^A-Za-z0-9?]", "", letters.group(1)).upper() if letters else ""
    return verdicts[-1].lower() == "pass", observed


def check_texts(texts: list[str], principle: Principle, ctx: Context, project_root: Path) -> list[Verdict]:
    """One verdict per text, in order."""
    if principle.checker.kind == "python":
        check = import_callable(principle.checker.fn, "checker.fn")
        return [Verdict(*check(text, principle.target)) for text in texts]
    template = read_template(principle.checker.judge_template, project_root)
    requests = [Request([{"role": "user", "content": template.render(principle=principle.statement(), text=text)}],
                        task="principle_examples.judge", temperature=0.0, max_tokens=200) for text in texts]
    verdicts = []
    for response in ctx.llm(principle.checker.role).complete(requests, desc="judge"):
        failed = (None, f"{response.reason}: {response.error}")
        passed, observed = _judge_reply(response.text) if response.ok else failed
        verdicts.append(Verdict(passed, observed, response.key))
    return verdicts
